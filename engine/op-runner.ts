// Runs inside an OP's child process: imports the OP's module, decodes and
// checks the inputs against the input sign, calls `execute`, checks and
// writes the outputs where the engine collects them (workdir/tmp/outputs).
// Exit codes as dflow's Python OPs: 1 for TransientError and other errors,
// 2 for FatalError.
import fsp from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { EXIT_ERROR, EXIT_FATAL, EXIT_TRANSIENT } from "../src/errors.js";
import { ArtifactSign, OP, type OPClass, checkSign, normaliseSign } from "../src/op.js";
import { isStringType } from "../src/types.js";
import { inputArtifactValue, writeOutputArtifact } from "./artifacts/op-io.js";
import { encodeValue, parseJsonLoose } from "./store/values.js";
import type { OPRunSpec } from "./ts-op-script.js";

function isOPClass(v: unknown): v is OPClass {
  return typeof v === "function" && (v.prototype instanceof OP || typeof (v as { get_input_sign?: unknown }).get_input_sign === "function");
}

async function loadOP(spec: OPRunSpec): Promise<OPClass> {
  if (/\.(c|m)?tsx?$/.test(spec.module)) {
    // TypeScript OP modules are compiled on the fly.
    const { register } = await import("tsx/esm/api");
    register();
  }
  const mod = (await import(pathToFileURL(spec.module).href)) as Record<string, unknown>;
  const direct = mod[spec.op];
  if (isOPClass(direct)) return direct;
  for (const v of Object.values(mod)) if (isOPClass(v) && v.name === spec.op) return v;
  throw new Error(`OP ${spec.op} is not exported by ${spec.module}: export it (export class ${spec.op} extends OP {...} or export const ${spec.op} = OP.function(...))`);
}

export async function main(spec: OPRunSpec): Promise<void> {
  process.env.DFLOW_OP_CHILD = "1";
  let code = 0;
  try {
    const cls = await loadOP(spec);
    const inSign = normaliseSign(cls.get_input_sign());
    const outSign = normaliseSign(cls.get_output_sign());
    const tmp = path.join(spec.workdir, "tmp");
    const op_in: Record<string, unknown> = {};
    for (const [name, p] of inSign.parameters) {
      const raw = spec.parameters[name];
      if (raw === undefined) continue;
      op_in[name] = isStringType(p.type) ? raw : parseJsonLoose(raw);
    }
    for (const [name, a] of inSign.artifacts) {
      const v = await inputArtifactValue(path.join(tmp, "inputs", "artifacts", name), a.kind, { subPathMode: a.sub_path });
      if (v !== null || a.optional) op_in[name] = v;
    }
    const checkedIn = checkSign(cls.name, inSign, op_in, "input");
    const op = new cls();
    op.key = spec.key;
    op.workflow_name = spec.workflow_name;
    const result = await op.execute(checkedIn);
    if (!result || typeof result !== "object") throw new TypeError(`OP ${cls.name}: execute must return an object of outputs, got ${result === null ? "null" : typeof result}`);
    const out = checkSign(cls.name, outSign, result as Record<string, unknown>, "output");
    await fsp.mkdir(path.join(tmp, "outputs", "parameters"), { recursive: true });
    await fsp.mkdir(path.join(tmp, "outputs", "artifacts"), { recursive: true });
    for (const [name, entry] of Object.entries(outSign.entries)) {
      const v = out[name];
      if (entry instanceof ArtifactSign) {
        if (v === null || v === undefined) {
          if (!entry.optional) throw new TypeError(`OP ${cls.name}: output artifact ${name} is missing`);
          continue;
        }
        await writeOutputArtifact(spec.workdir, name, v);
      } else if (v !== undefined) {
        await fsp.writeFile(path.join(tmp, "outputs", "parameters", name), encodeValue(v));
      }
    }
    if (spec.success_tag) await fsp.writeFile(path.join(tmp, "outputs", "success_tag"), "1");
  } catch (e) {
    const err = e as Error;
    code = err?.name === "FatalError" ? EXIT_FATAL : err?.name === "TransientError" ? EXIT_TRANSIENT : EXIT_ERROR;
    // Type-check failures are the user's message; anything else gets its
    // stack, then one summary line, so the reason is always at the end of
    // log.txt where the engine takes the step's failure message from.
    if (err instanceof TypeError && /^OP /.test(err.message)) process.stderr.write(`TypeError: ${err.message}\n`);
    else process.stderr.write(`${err?.stack ?? String(err)}\n${err?.name ?? "Error"} in OP ${spec.op}: ${err?.message ?? String(err)}\n`);
  }
  process.exitCode = code;
}
