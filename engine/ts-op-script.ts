// The script a TypeScript-OP step runs: a few lines that hand the OP's
// module, name and rendered inputs to the OP runner. It is written to
// <stepdir>/script like dflow's generated Python script, so it shows exactly
// what ran and can be edited before a restart.
import { fileURLToPath, pathToFileURL } from "node:url";
import type { TsOPTemplate } from "../src/templates.js";
import type { PV } from "./context.js";
import type { SliceSpec } from "./slices.js";
import { encodeValue } from "./store/values.js";

const RUNNER = new URL("./op-runner.js", import.meta.url).href;

export interface OPRunSpec {
  module: string;
  op: string;
  workdir: string;
  /** Raw parameter texts, as in inputs/parameters/<name>. */
  parameters: Record<string, string>;
  key: string | null;
  workflow_name: string;
  /** Write "1" to tmp/outputs/success_tag after success (continue_on_num_success/ratio). */
  success_tag?: boolean;
  /** For an item of a sliced step: the slices its OP runs. */
  slices?: SliceSpec;
  /** The OP's module bundled with the runner (ts-op-bundle.ts), when there is one. */
  bundle?: string;
  /**
   * Appended to the names of the output parameter files and the success tag: a merged sliced
   * step's tasks share one job directory, and each writes its own (dflow's `<path>_<i>`).
   */
  output_suffix?: string;
  /** Run in an exported workflow's pod: its parameters are what Argo passed (op-runner.ts reads a loop's gathered outputs back). */
  from_argo?: boolean;
}

export function tsOPSpec(t: TsOPTemplate, params: Map<string, PV>, workdir: string, key: string | null, wfid: string, slices?: SliceSpec, bundle?: string | null): OPRunSpec {
  return {
    module: t.module,
    op: t.opName,
    workdir,
    parameters: Object.fromEntries([...params].filter(([n]) => n in t.input_sign.entries).map(([n, pv]) => [n, encodeValue(pv.value)])),
    key,
    workflow_name: wfid,
    ...(t.success_tag ? { success_tag: true } : {}),
    ...(slices ? { slices } : {}),
    ...(bundle ? { bundle } : {}),
  };
}

export function tsOPScript(spec: OPRunSpec, t: TsOPTemplate, stepDir: string): string {
  return [
    `// dflow-ts: runs OP ${t.opName} from ${pathToFileURL(t.module).href}`,
    `// for step ${stepDir}. Generated; edit it and resubmit the workflow to re-run this step differently.`,
    ...(spec.bundle
      ? [
          `const spec = ${JSON.stringify(spec, null, 2)};`,
          "// The bundled OP when it is still there, else the module itself through tsx.",
          `import("node:fs").then((fs) => import(fs.existsSync(spec.bundle) ? ${JSON.stringify(pathToFileURL(spec.bundle).href)} : ${JSON.stringify(RUNNER)})).then((m) => m.main(spec));`,
        ]
      : [`import(${JSON.stringify(RUNNER)}).then((m) => m.main(${JSON.stringify(spec, null, 2)}));`]),
    "",
  ].join("\n");
}

export const opRunnerPath = fileURLToPath(RUNNER);

/** The script of a TS-OP step that runs as an HPC job: the bundle travels with it (dflow-op.mjs). */
export function remoteTsOPScript(spec: OPRunSpec, t: TsOPTemplate, stepDir: string): string {
  return [
    `// dflow-ts: runs OP ${t.opName} (bundled from ${pathToFileURL(t.module).href}) as a remote job`,
    `// for step ${stepDir}. $(pwd) is replaced by the job directory before it runs.`,
    `const spec = ${JSON.stringify(spec, null, 2)};`,
    `import("node:url").then((u) => import(u.pathToFileURL(spec.bundle).href)).then((m) => m.main(spec));`,
    "",
  ].join("\n");
}
