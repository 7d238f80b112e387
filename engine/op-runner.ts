// Runs inside an OP's child process: imports the OP's module, decodes and
// checks the inputs against the input sign, calls `execute`, checks and
// writes the outputs where the engine collects them (workdir/tmp/outputs).
// Exit codes as dflow's Python OPs: 1 for TransientError and other errors,
// 2 for FatalError.
import fsp from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pLimit from "p-limit";
import { EXIT_ERROR, EXIT_FATAL, EXIT_TRANSIENT } from "../src/errors.js";
import { ArtifactSign, OP, type OPClass, checkSign, normaliseSign } from "../src/op.js";
import { isStringType } from "../src/types.js";
import { inputArtifactValue, writeOutputArtifact } from "./artifacts/op-io.js";
import { encodeValue, parseJsonLoose, pyJson } from "./store/values.js";
import type { OPRunSpec } from "./ts-op-script.js";

function isOPClass(v: unknown): v is OPClass {
  return typeof v === "function" && (v.prototype instanceof OP || typeof (v as { get_input_sign?: unknown }).get_input_sign === "function");
}

let tsxRegistered = false;

/** Set by a bundle (ts-op-bundle.ts): the OP's module, already loaded. */
let bundled: { path: string; ns: Record<string, unknown> } | undefined;
export function setBundledModule(m: { path: string; ns: Record<string, unknown> }): void {
  bundled = m;
}

export async function loadOP(spec: OPRunSpec): Promise<OPClass> {
  const fromBundle = bundled && bundled.path === spec.module ? bundled.ns : undefined;
  if (fromBundle) return findOP(fromBundle, spec);
  if (/\.(c|m)?tsx?$/.test(spec.module) && !tsxRegistered) {
    // TypeScript OP modules are compiled on the fly. Once per process: each
    // register() adds a loader hook, and a warm worker runs many OPs.
    tsxRegistered = true;
    const { register } = await import("tsx/esm/api");
    register();
    (await import("./ts-esm-hooks.js")).loadTypeScriptAsEsm(); // ESM whatever the OP's package.json says
  }
  return findOP((await import(pathToFileURL(spec.module).href)) as Record<string, unknown>, spec);
}

function findOP(mod: Record<string, unknown>, spec: OPRunSpec): OPClass {
  const direct = mod[spec.op];
  if (isOPClass(direct)) return direct;
  for (const v of Object.values(mod)) if (isOPClass(v) && v.name === spec.op) return v;
  throw new Error(`OP ${spec.op} is not exported by ${spec.module}: export it (export class ${spec.op} extends OP {...} or export const ${spec.op} = OP.function(...))`);
}

/** Run one OP as its step's script does; resolves with the process exit status it calls for. */
export async function runOP(spec: OPRunSpec): Promise<number> {
  process.env.DFLOW_OP_CHILD = "1";
  let code = 0;
  try {
    const cls = await loadOP(spec);
    const inSign = normaliseSign(cls.get_input_sign());
    const outSign = normaliseSign(cls.get_output_sign());
    const tmp = path.join(spec.workdir, "tmp");
    const sl = spec.slices;
    const op_in: Record<string, unknown> = {};
    for (const [name, p] of inSign.parameters) {
      const raw = spec.parameters[name];
      if (raw === undefined) continue;
      // A sliced parameter holds the whole list, whatever the OP declares for one slice.
      let v = isStringType(p.type) && !sl?.input_parameter.includes(name) ? raw : parseJsonLoose(raw);
      // Argo gathers a loop's outputs as a list of their texts (`["1","4","9"]`: operator.go's
      // aggregatedJSONValueList unmarshals only lists and maps), where `dflow run` gives the values:
      // in an exported pod, the texts are read back when that is what makes the list the OP's type.
      if (spec.from_argo && Array.isArray(v) && !sl?.input_parameter.includes(name) && !p.schema.safeParse(v).success) {
        const values = v.map((x) => (typeof x === "string" ? parseJsonLoose(x) : x));
        if (p.schema.safeParse(values).success) v = values;
      }
      op_in[name] = v;
    }
    for (const [name, a] of inSign.artifacts) {
      const root = path.join(tmp, "inputs", "artifacts", name);
      const sub = sl?.sub_paths?.[name];
      // Normal slices: the whole artifact as a list, sliced below; sub_path: this item's own part.
      const v = sub ? path.join(root, sub) : await inputArtifactValue(root, sl?.input_artifact.includes(name) ? "list" : a.kind, { subPathMode: a.sub_path });
      if (v !== null || a.optional) op_in[name] = v;
    }

    // One execution per slice (a single one without slices).
    const indices = sl ? sl.indices : [null];
    const runSlice = async (idx: number | null): Promise<Record<string, unknown>> => {
      const args = { ...op_in };
      if (sl && idx !== null) {
        for (const p of sl.input_parameter) {
          const full = args[p];
          if (!Array.isArray(full)) throw new TypeError(`OP ${cls.name}: sliced input parameter ${p} must be a list, got ${JSON.stringify(full)}`);
          args[p] = full[idx];
        }
        for (const a of sl.input_artifact) {
          const full = args[a];
          if (!Array.isArray(full)) throw new TypeError(`OP ${cls.name}: sliced input artifact ${a} is not a list of paths`);
          args[a] = full[idx] ?? null;
        }
      }
      const checkedIn = checkSign(cls.name, inSign, args, "input");
      const op = new cls();
      op.key = spec.key;
      op.workflow_name = spec.workflow_name;
      const result = await op.execute(checkedIn);
      if (!result || typeof result !== "object") throw new TypeError(`OP ${cls.name}: execute must return an object of outputs, got ${result === null ? "null" : typeof result}`);
      return checkSign(cls.name, outSign, result as Record<string, unknown>, "output");
    };
    // pool_size slices at once (-1: all of them), one at a time by default.
    const limit = pLimit(Math.max(1, Math.min(sl?.pool_size === -1 ? indices.length : (sl?.pool_size ?? 1), indices.length)));
    const results = await Promise.all(indices.map((idx) => limit(() => runSlice(idx))));

    await fsp.mkdir(path.join(tmp, "outputs", "parameters"), { recursive: true });
    await fsp.mkdir(path.join(tmp, "outputs", "artifacts"), { recursive: true });
    for (const [name, entry] of Object.entries(outSign.entries)) {
      if (entry instanceof ArtifactSign) {
        for (let k = 0; k < results.length; k++) {
          const v = results[k][name];
          const idx = indices[k];
          if (v === null || v === undefined) {
            if (!entry.optional) throw new TypeError(`OP ${cls.name}: output artifact ${name} is missing`);
            continue;
          }
          if (sl && idx !== null && sl.output_artifact.includes(name)) {
            await writeOutputArtifact(spec.workdir, name, v, { order: idx, sliced: true, subdir: sl.create_dir ? String(idx) : undefined });
          } else if (sl?.group) {
            await writeOutputArtifact(spec.workdir, name, v, { order: k, sliced: true });
          } else {
            await writeOutputArtifact(spec.workdir, name, v);
          }
        }
        continue;
      }
      const file = path.join(tmp, "outputs", "parameters", name + (spec.output_suffix ?? ""));
      if (sl && sl.output_parameter.includes(name)) {
        // [{"dflow_list_item": v, "order": slice}, ...], merged in slice order by the engine (§4.8).
        await fsp.writeFile(file, pyJson(results.map((r, k) => ({ dflow_list_item: r[name], order: indices[k] }))));
      } else if (sl?.group) {
        await fsp.writeFile(file, pyJson(results.map((r) => r[name])));
      } else if (results[0][name] !== undefined) {
        await fsp.writeFile(file, encodeValue(results[0][name]));
      }
    }
    if (spec.success_tag) await fsp.writeFile(path.join(tmp, "outputs", `success_tag${spec.output_suffix ?? ""}`), "1");
  } catch (e) {
    const err = e as Error;
    code = err?.name === "FatalError" ? EXIT_FATAL : err?.name === "TransientError" ? EXIT_TRANSIENT : EXIT_ERROR;
    // Type-check failures are the user's message; anything else gets its
    // stack, then one summary line, so the reason is always at the end of
    // log.txt where the engine takes the step's failure message from.
    if (err instanceof TypeError && /^OP /.test(err.message)) process.stderr.write(`TypeError: ${err.message}\n`);
    else process.stderr.write(`${err?.stack ?? String(err)}\n${err?.name ?? "Error"} in OP ${spec.op}: ${err?.message ?? String(err)}\n`);
  }
  return code;
}

/** Entry point of a TS-OP step's script. */
export async function main(spec: OPRunSpec): Promise<void> {
  process.exitCode = await runOP(spec);
}
