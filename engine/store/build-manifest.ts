// A bundle reused across runs without starting esbuild (workflow scripts,
// src/cli/script-bundle.ts; TS OP modules, engine/ts-op-bundle.ts): beside
// it, a manifest lists the size and mtime of every file it was built from
// and of the code that built it. Stamped after the build: a file edited
// during it then fails the next check, never the reverse.
import fs from "node:fs";
import path from "node:path";
import { writeAtomicSync } from "./fsx.js";

/** [file, size, mtimeMs]. */
export type Stamp = [string, number, number];

interface BuildManifest {
  format: number;
  /** The module that builds: a new build of dflow-ts may bundle differently. */
  builder: Stamp;
  inputs: Stamp[];
  /** The bundle's file name, in the manifest's folder. */
  bundle: string;
}

export function stamp(file: string): Stamp | null {
  try {
    const st = fs.statSync(file);
    return [file, st.size, st.mtimeMs];
  } catch {
    return null;
  }
}

const same = (a: Stamp | null, b: Stamp): boolean => a !== null && a[1] === b[1] && a[2] === b[2];

/** The bundle a manifest names, if it was built in this `format` by `builder` from inputs that did not change since, and is still there. */
export function builtBundle(manifest: string, format: number, builder: string): string | null {
  let m: BuildManifest;
  try {
    m = JSON.parse(fs.readFileSync(manifest, "utf8")) as BuildManifest;
  } catch {
    return null;
  }
  if (m.format !== format || !same(stamp(builder), m.builder) || !m.inputs.every((i) => same(stamp(i[0]), i))) return null;
  const bundle = path.join(path.dirname(manifest), m.bundle);
  return fs.existsSync(bundle) ? bundle : null;
}

/** Record what `bundle` (a file in the manifest's folder) was built from; not when a stamp is missing (then it is built again). */
export function writeBuildManifest(manifest: string, format: number, builder: string, inputs: Array<Stamp | null>, bundle: string): void {
  const b = stamp(builder);
  const known = inputs.filter((i): i is Stamp => i !== null);
  if (!b || known.length < inputs.length) return;
  writeAtomicSync(manifest, JSON.stringify({ format, builder: b, inputs: known, bundle: path.basename(bundle) } satisfies BuildManifest));
}
