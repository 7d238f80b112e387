// Files of a step directory (spec §2.4, §2.5): phase/type/name, parameter
// files with `.dflow` type sidecars, artifact links, the failure message.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { PV } from "./context.js";
import { asStorageError, readTextOr, symlinkAtomic, writeAtomic, writeAtomicSync } from "./store/fsx.js";
import { decodeValue, encodeValue, pyJson } from "./store/values.js";

export type IO = "inputs" | "outputs";

function mkdirOnce(p: string): void {
  try {
    fs.mkdirSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw asStorageError(e, p);
  }
}

/** inputs/{parameters,artifacts} and outputs/{parameters,artifacts}: plain mkdirs, the step directory exists. */
export async function mkdirIO(dir: string): Promise<void> {
  for (const io of ["inputs", "outputs"]) {
    mkdirOnce(path.join(dir, io));
    mkdirOnce(path.join(dir, io, "parameters"));
    mkdirOnce(path.join(dir, io, "artifacts"));
  }
}

export { mkdirOnce };

export function writePhase(dir: string, phase: string): Promise<void> {
  return writeAtomic(path.join(dir, "phase"), phase);
}

export async function writeParameters(dir: string, io: IO, params: Map<string, PV>): Promise<void> {
  const base = path.join(dir, io, "parameters");
  if ([...params.values()].some((p) => p.type)) {
    try {
      fs.mkdirSync(path.join(base, ".dflow"), { recursive: true });
    } catch (e) {
      throw asStorageError(e, path.join(base, ".dflow"));
    }
  }
  for (const [name, pv] of params) {
    writeAtomicSync(path.join(base, name), encodeValue(pv.value));
    if (pv.type) writeAtomicSync(path.join(base, ".dflow", name), pyJson({ type: pv.type }));
  }
}

export async function linkArtifact(dir: string, io: IO, name: string, target: string): Promise<string> {
  const link = path.join(dir, io, "artifacts", name);
  await symlinkAtomic(target, link);
  return link;
}

/** Read a step's recorded parameters back, decoded by their sidecars (or by `types` when given). */
export async function readParameters(dir: string, io: IO, types?: Map<string, string | null>): Promise<Map<string, PV>> {
  const base = path.join(dir, io, "parameters");
  const out = new Map<string, PV>();
  let names: string[];
  try {
    names = (await fsp.readdir(base)).filter((n) => n !== ".dflow" && !n.startsWith(".") );
  } catch {
    return out;
  }
  for (const name of names) {
    const text = await fsp.readFile(path.join(base, name), "utf8");
    const side = await readTextOr(path.join(base, ".dflow", name), null);
    const sideType = side ? ((JSON.parse(side) as { type?: string }).type ?? null) : null;
    const type = types?.has(name) ? (types.get(name) ?? null) : sideType;
    out.set(name, { value: decodeValue(text, type), type });
  }
  return out;
}

/** Output artifact name -> target of its link. */
export async function readArtifactLinks(dir: string, io: IO): Promise<Map<string, string>> {
  const base = path.join(dir, io, "artifacts");
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await fsp.readdir(base);
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      out.set(n, await fsp.readlink(path.join(base, n)));
    } catch {
      out.set(n, path.join(base, n));
    }
  }
  return out;
}

/**
 * The exit status of the step's last launched process, written by the
 * process side (the sh wrapper of executors/local.ts, or the warm worker)
 * when the OP/script ends: "<status>\n" in one write. Not part of dflow's
 * layout (hidden, like <wfdir>/.engine). A killed engine's successor adopts
 * a step whose record says 0 instead of running it again.
 */
export const EXIT_FILE = ".dflow-ts-exit";

/** The status recorded in a step directory's EXIT_FILE, or null without a complete record. */
export function readExitStatus(dir: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, EXIT_FILE), "utf8");
  } catch {
    return null;
  }
  const m = /^(\d+)\n$/.exec(text);
  return m ? Number(m[1]) : null;
}

/** Why a step failed, kept beside its phase (dflow has no such file; §8.4 suggests one). */
export function writeMessage(dir: string, message: string): Promise<void> {
  return writeAtomic(path.join(dir, "message"), message.endsWith("\n") ? message : `${message}\n`);
}

export function readPhaseSync(dir: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, "phase"), "utf8");
  } catch {
    return null;
  }
}

/** The last `n` lines of a log, for failure messages. */
export async function logTail(file: string, n = 15): Promise<string> {
  try {
    const fh = await fsp.open(file, "r");
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 8192);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      const lines = buf.toString("utf8").split("\n");
      if (lines[lines.length - 1] === "") lines.pop();
      return lines.slice(-n).join("\n");
    } finally {
      await fh.close();
    }
  } catch {
    return "";
  }
}
