// Slices (dflow's interface-layer Slices, spec §4.9) for TypeScript-OP
// templates: lists passed whole to every item of a fan-out, each item's OP
// getting its slice; outputs gathered back into lists in slice order.
import { z } from "./vendor/zod.js";
import { PyRandom } from "./py-random.js";
import { DflowConfigError } from "./errors.js";
import { boolField, field, parseOptions, spec, stringField } from "./options.js";
import { InputArtifact, InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs } from "./io.js";
import { S3Artifact } from "./s3.js";
import { ScriptOPTemplate, TsOPTemplate } from "./templates.js";

export interface SlicesOptions {
  /** The slice of each item: "{{item}}" (default), or "{{item.order}}" in sub_path mode. */
  slices?: string;
  input_parameter?: string[];
  input_artifact?: string[];
  output_parameter?: string[];
  output_artifact?: string[];
  /** Pass each item only its own part of the sliced input artifacts. */
  sub_path?: boolean;
  /** Items of several consecutive slices each, run one after the other (or pool_size at a time) in one process. */
  group_size?: number;
  shuffle?: boolean;
  random_seed?: number;
  /** Slices of a group run concurrently inside the OP's process (async OPs); -1: all. */
  pool_size?: number;
  /** Put each slice's output files under a directory named after the slice. */
  create_dir?: boolean;
  register_first_only?: boolean;
}

const names = field(z.array(z.string()).nullish(), "a list of names");
/** dflow's Slices options. */
export const slicesSpec = spec(
  {
    slices: stringField,
    input_parameter: names,
    input_artifact: names,
    output_parameter: names,
    output_artifact: names,
    sub_path: boolField,
    group_size: field(z.number().int().min(1).nullish(), "a whole number ≥ 1"),
    shuffle: boolField,
    random_seed: field(z.number().int().nullish(), "a whole number"),
    pool_size: field(z.union([z.number().int().min(1), z.literal(-1)]).nullish(), "a whole number ≥ 1, or -1 (all slices of a group at once)"),
    create_dir: boolField,
    register_first_only: boolField,
  },
  [],
  { pool_timeout: "not implemented", raise_for_group: "not implemented; a failing slice fails its group" },
);

/** See Slices.runnerFields(). */
export interface SliceRunnerFields {
  input_parameter: string[];
  /** Sliced input artifacts (normal mode only). */
  input_artifact: string[];
  output_parameter: string[];
  output_artifact: string[];
  pool_size?: number;
  create_dir: boolean;
}

/** Consecutive groups of `size` items, after CPython's shuffle seeded with `seed` (none: in order). The export's pods call it too (export-bundle.ts). */
export function groupItems(items: unknown[], size: number, seed: number | null): unknown[][] {
  const list = seed === null ? [...items] : new PyRandom(seed).shuffle([...items]);
  const out: unknown[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export class Slices {
  readonly slices: string;
  readonly input_parameter: string[];
  readonly input_artifact: string[];
  readonly output_parameter: string[];
  readonly output_artifact: string[];
  readonly sub_path: boolean;
  readonly group_size?: number;
  readonly shuffle: boolean;
  readonly random_seed: number;
  readonly pool_size?: number;
  readonly create_dir: boolean;

  constructor(opts: SlicesOptions | string = {}) {
    const o: SlicesOptions = typeof opts === "string" ? { slices: opts } : opts;
    parseOptions(slicesSpec, o, "Slices");
    this.sub_path = o.sub_path ?? false;
    this.group_size = o.group_size ?? undefined;
    this.slices = o.slices ?? (this.sub_path && !o.group_size ? "{{item.order}}" : "{{item}}");
    this.input_parameter = o.input_parameter ?? [];
    this.input_artifact = o.input_artifact ?? [];
    this.output_parameter = o.output_parameter ?? [];
    this.output_artifact = o.output_artifact ?? [];
    this.shuffle = o.shuffle ?? false;
    this.random_seed = o.random_seed ?? 0;
    this.pool_size = o.pool_size;
    this.create_dir = o.create_dir ?? false;
    if (this.sub_path && this.group_size) throw new DflowConfigError("Slices: sub_path and group_size cannot be combined");
  }

  /**
   * What the OP runner of every item is told of these slices, besides the
   * item's own indices: engine/slices.ts sliceSpec() for a local item, and
   * the Argo export's pod script, so that both run an item alike.
   */
  runnerFields(): SliceRunnerFields {
    return {
      input_parameter: this.input_parameter,
      // In sub_path mode each item gets its own part of a sliced input artifact, not all of it to slice.
      input_artifact: this.sub_path ? [] : this.input_artifact,
      output_parameter: this.output_parameter,
      output_artifact: this.output_artifact,
      ...(this.pool_size !== undefined ? { pool_size: this.pool_size } : {}),
      create_dir: this.create_dir,
    };
  }

  /**
   * The items of a step with group_size, in groups of that many consecutive
   * ones, after a shuffle seeded with random_seed when `shuffle`, in
   * dflow's order (its pods run `random.seed(random_seed);
   * random.shuffle(list(range(n)))`, step.py): what `dflow run` fans out
   * (engine/run-step.ts) and the export writes as the step's withParam.
   */
  groups(items: unknown[]): unknown[][] {
    return groupItems(items, this.group_size!, this.shuffle ? this.random_seed : null);
  }

  /** Whether an init-artifact helper step runs before the sliced step (§4.9). */
  get needsInit(): boolean {
    return this.output_artifact.length > 0 || this.sub_path;
  }

  check(t: TsOPTemplate): void {
    const where = { template: t.name };
    for (const p of this.input_parameter) if (!(p in t.inputs.parameters)) throw new DflowConfigError(`Slices input_parameter ${p} is not an input parameter of OP ${t.opName}`, where);
    for (const a of this.input_artifact) if (!(a in t.inputs.artifacts)) throw new DflowConfigError(`Slices input_artifact ${a} is not an input artifact of OP ${t.opName}`, where);
    for (const p of this.output_parameter) if (!(p in t.outputs.parameters)) throw new DflowConfigError(`Slices output_parameter ${p} is not an output parameter of OP ${t.opName}`, where);
    for (const a of this.output_artifact) if (!(a in t.outputs.artifacts)) throw new DflowConfigError(`Slices output_artifact ${a} is not an output artifact of OP ${t.opName}`, where);
  }
}

/**
 * The template a sliced step runs: the OP's template plus the input
 * `dflow_artifact_key` and, for each sliced output artifact, storage under
 * <artroot>/<dflow_artifact_key>/<name> where every item merges its part.
 */
export function slicedTemplate(t: TsOPTemplate): TsOPTemplate {
  const s = t.slices!;
  s.check(t);
  const copy = Object.assign(Object.create(Object.getPrototypeOf(t) as object), t) as TsOPTemplate;
  copy.inputs = new Inputs({ parameters: { ...t.inputs.parameters }, artifacts: { ...t.inputs.artifacts } });
  copy.outputs = new Outputs({ parameters: { ...t.outputs.parameters }, artifacts: { ...t.outputs.artifacts } });
  if (s.needsInit) copy.inputs.parameters.dflow_artifact_key = new InputParameter();
  for (const a of s.output_artifact) {
    const o = t.outputs.artifacts[a];
    copy.outputs.artifacts[a] = new OutputArtifact({ path: o.path, optional: o.optional, global_name: o.global_name, save: [new S3Artifact({ key: `{{inputs.parameters.dflow_artifact_key}}/${a}` })] });
  }
  return copy;
}

// Valid both as CommonJS and as an ES module (no require, no import statement,
// no top-level await): node reads an extensionless script as whichever the
// nearest package.json says, and the step directory may sit under any.
const INIT_SCRIPT = `Promise.all([import("node:fs"), import("node:path")]).then(([{ default: fs }, { default: path }]) => {
  const outputs = OUTPUTS;
  for (const name of outputs) {
    const dir = path.join("/tmp/outputs/artifacts", name, ".dflow");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "init"), '{"path_list": []}');
  }
  const subPath = SUBPATH;
  if (subPath.length) {
    // Each sliced input's catalog lists its items: item i of every input becomes slice i.
    const lists = subPath.map((name) => {
      const dir = path.join("/tmp/inputs/artifacts", name);
      const items = [];
      for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
        for (const i of JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")).path_list) {
          if (!items.some((x) => JSON.stringify(x) === JSON.stringify(i))) items.push(i);
        }
      }
      return items.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    });
    const n = Math.min(...lists.map((l) => l.length));
    const slices = [];
    for (let i = 0; i < n; i++) {
      const entry = { order: i };
      subPath.forEach((name, k) => (entry[name] = lists[k][i].dflow_list_item));
      slices.push(entry);
    }
    fs.mkdirSync("/tmp/outputs/parameters", { recursive: true });
    const py = (v) => (Array.isArray(v) ? "[" + v.map(py).join(", ") + "]" : v && typeof v === "object" ? "{" + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ": " + py(x)).join(", ") + "}" : JSON.stringify(v));
    fs.writeFileSync("/tmp/outputs/parameters/dflow_slices_path", py(slices));
  }
});
`;

/**
 * dflow's `<step>-init-artifact` helper: creates the (empty) merged output
 * artifacts of a sliced step and, in sub_path mode, lists the slices of its
 * sliced input artifacts. A real Pod step, as in dflow, so it shows on disk.
 */
export function initArtifactTemplate(t: TsOPTemplate, groupKey?: string): ScriptOPTemplate {
  const s = t.slices!;
  // The group key comes in as dflow_group_key (as in dflow), so references in it, e.g. to an input
  // set from an outer fan-out's item, are rendered in the step's scope: each group keeps its own merged outputs.
  const key = groupKey ? "{{workflow.name}}/{{inputs.parameters.dflow_group_key}}" : "{{workflow.name}}/{{pod.name}}";
  const inputs = new Inputs();
  if (groupKey) inputs.parameters.dflow_group_key = new InputParameter();
  if (s.sub_path) for (const a of s.input_artifact) inputs.artifacts[a] = new InputArtifact({ path: `/tmp/inputs/artifacts/${a}` });
  const outputs = new Outputs({ parameters: { dflow_artifact_key: new OutputParameter({ value: key }) } });
  if (s.sub_path) outputs.parameters.dflow_slices_path = new OutputParameter({ value_from_path: "/tmp/outputs/parameters/dflow_slices_path", type: "dict" });
  for (const a of s.output_artifact) outputs.artifacts[a] = new OutputArtifact({ path: `/tmp/outputs/artifacts/${a}`, save: [new S3Artifact({ key: `${key}/${a}` })] });
  return new ScriptOPTemplate({
    name: `${t.name}-init-artifact`,
    command: [process.execPath],
    script: INIT_SCRIPT.replace("OUTPUTS", JSON.stringify(s.output_artifact)).replace("SUBPATH", JSON.stringify(s.sub_path ? s.input_artifact : [])),
    inputs,
    outputs,
  });
}
