// Argo's Go types (engine/argo/go-types.ts) and the kind check built on
// them (engine/argo/shape.ts): the committed table is what Argo's JSON
// schema gives (DFLOW_UPDATE_GO_TYPES=1 rewrites it), fields of the wrong
// JSON kind are refused in Go's words, scalars of another kind are not, and
// every manifest of Argo's examples corpus passes.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseManifests } from "../../engine/argo/manifest.js";
import { shapeErrors } from "../../engine/argo/shape.js";

const root = path.resolve(import.meta.dirname, "../..");
const SCHEMA = path.join(root, "fixtures", "argo", "schema", "schema.json");
const TABLE = path.join(root, "engine", "argo", "go-types.ts");
const corpus = path.join(root, "fixtures", "argo", "examples");

// ---- The generator: Argo's JSON schema -> engine/argo/go-types.ts ----------------------------------

type Schema = { $ref?: string; type?: string; format?: string; items?: Schema; properties?: Record<string, Schema>; additionalProperties?: Schema | boolean };

const ROOTS = ["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"].map((k) => `io.argoproj.workflow.v1alpha1.${k}`);

/** Go's name of a definition: its package (the segment before the type's) and the type, `io.k8s.api.core.v1.Container` -> `v1.Container`. */
const goName = (def: string): string => def.split(".").slice(-2).join(".");

/** The schema's definitions reachable from the four roots, as the table's entries (Go name -> fields, or the type it is). */
function goTypesFromSchema(schema: { definitions: Record<string, Schema> }): Map<string, string | Record<string, string>> {
  const defs = schema.definitions;
  const todo = [...ROOTS];
  const names = new Map<string, string>(); // Go name -> definition, to catch two definitions with one Go name
  const out = new Map<string, string | Record<string, string>>();
  const ref = (r: string): string => {
    const def = r.replace(/^#\/definitions\//, "");
    if (!defs[def]) throw new Error(`schema: ${r} is not defined`);
    if (!names.has(goName(def))) todo.push(def);
    names.set(goName(def), names.get(goName(def)) ?? def);
    if (names.get(goName(def)) !== def) throw new Error(`schema: ${def} and ${names.get(goName(def))} have one Go name ${goName(def)}`);
    return goName(def);
  };
  const code = (s: Schema, at: string): string => {
    if (s.$ref) return ref(s.$ref);
    switch (s.type) {
      case "string":
        return s.format === "byte" ? "[]byte" : "string";
      case "integer":
        return s.format === "int32" || s.format === "int64" ? s.format : "int";
      case "number":
        return "float64";
      case "boolean":
        return "bool";
      case "array":
        if (!s.items) throw new Error(`schema: ${at}: an array without items`);
        return `[]${code(s.items, at)}`;
      case "object":
        if (s.properties) throw new Error(`schema: ${at}: an inline object with properties (give the table a way to say it)`);
        return `map[string]${typeof s.additionalProperties === "object" ? code(s.additionalProperties, at) : "any"}`;
      case undefined:
        return "any";
    }
    throw new Error(`schema: ${at}: type ${s.type}`);
  };
  for (const r of ROOTS) ref(`#/definitions/${r}`);
  for (let def = todo.shift(); def; def = todo.shift()) {
    const s = defs[def];
    if (s.properties) {
      if (s.type !== "object") throw new Error(`schema: ${def}: properties on a ${s.type}`);
      out.set(goName(def), Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, code(p, `${def}.${k}`)])));
    } else if (s.type === "object" && !s.additionalProperties) {
      out.set(goName(def), {}); // a struct whose fields the schema does not list (Plugin, ZipStrategy, FieldsV1): any object
    } else {
      out.set(goName(def), code(s, def));
    }
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const key = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));

/** The text of engine/argo/go-types.ts. */
function goTypesModule(schema: { definitions: Record<string, Schema> }): string {
  const entries = [...goTypesFromSchema(schema)].map(
    ([name, t]) => `  ${JSON.stringify(name)}: ${typeof t === "string" ? JSON.stringify(t) : `{${Object.entries(t).map(([k, c]) => `${key(k)}: ${JSON.stringify(c)}`).join(", ")}}`},`,
  );
  return `// GENERATED from fixtures/argo/schema/schema.json (Argo Workflows' JSON schema, its \`definitions\`) by
// test/argo/go-types.test.ts; do not edit. Regenerate after changing the schema:
//   DFLOW_UPDATE_GO_TYPES=1 npx vitest run test/argo/go-types.test.ts
// (without the variable, that test fails when this file is not what the schema gives).
//
// Argo's Go types, reachable from Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow,
// by Go name (package.Type): a struct is {JSON field: type}; any other type is what it decodes as.
// A type is a scalar (string, int, int32, int64, float64, bool, []byte: a base64 string), "[]T" (an array),
// "map[string]T" (an object of Ts), another type named here, or "any" (anything: v1alpha1.Item).

export type GoType = string | Readonly<Record<string, string>>;

export const GO_TYPES: Readonly<Record<string, GoType>> = {
${entries.join("\n")}
};
`;
}

describe("engine/argo/go-types.ts", () => {
  it("is what Argo's schema gives", () => {
    const text = goTypesModule(JSON.parse(fs.readFileSync(SCHEMA, "utf8")));
    if (process.env.DFLOW_UPDATE_GO_TYPES) fs.writeFileSync(TABLE, text);
    expect(fs.readFileSync(TABLE, "utf8"), "engine/argo/go-types.ts is stale: DFLOW_UPDATE_GO_TYPES=1 npx vitest run test/argo/go-types.test.ts").toBe(text);
  });
});

// ---- shapeErrors ------------------------------------------------------------------------------------

/** A Workflow manifest's documents, parsed as the engine parses them (YAML 1.1, as Argo's yaml.v2), the shapes left to the test. */
const wf = (yaml: string) => parseManifests(yaml, "wf.yaml", { shapes: false })[0];

const WF = (templates: string, spec = "") => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: shape-}
spec:
  entrypoint: main
${spec}
  templates:
${templates}
`;

describe("shapeErrors", () => {
  it("accepts a well-formed Workflow", () => {
    const doc = wf(
      WF(
        `  - name: main
    steps:
    - - name: a
        template: say
        arguments: {parameters: [{name: text, value: 5}, {name: flag, value: true}]}
  - name: say
    inputs: {parameters: [{name: text}, {name: flag}]}
    container: {image: busybox, command: [echo], args: ["{{inputs.parameters.text}}", 1]}`,
        `  arguments:\n    parameters: [{name: message, value: 5}, {name: flag, value: yes}]`,
      ),
    );
    expect(shapeErrors(doc, "Workflow")).toEqual([]);
  });

  it("refuses a command given as a string", () => {
    const doc = wf(WF(`  - name: main\n    container: {image: busybox, command: "echo hi"}`));
    expect(shapeErrors(doc, "Workflow")).toEqual(["spec.templates[0].container.command: cannot unmarshal string into Go struct field Container.command of type []string"]);
  });

  it("refuses steps that are not in groups", () => {
    const doc = wf(WF(`  - name: main\n    steps: [{name: a, template: x}]\n  - name: x\n    container: {image: busybox}`));
    expect(shapeErrors(doc, "Workflow")).toEqual(["spec.templates[0].steps[0]: cannot unmarshal object into Go value of type []v1alpha1.WorkflowStep"]);
  });

  it("refuses spec.arguments.parameters given as a mapping", () => {
    const doc = wf(WF(`  - name: main\n    container: {image: busybox}`, `  arguments:\n    parameters: {message: hi}`));
    expect(shapeErrors(doc, "Workflow")).toEqual(["spec.arguments.parameters: cannot unmarshal object into Go struct field Arguments.parameters of type []v1alpha1.Parameter"]);
  });

  it("refuses spec.templates given as a mapping", () => {
    const doc = wf(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: shape-}
spec:
  entrypoint: main
  templates:
    main: {container: {image: busybox}}
`);
    expect(shapeErrors(doc, "Workflow")).toEqual(["spec.templates: cannot unmarshal object into Go struct field WorkflowSpec.templates of type []v1alpha1.Template"]);
  });

  it("accepts scalars of any kind in a scalar field: a parameter's value 5 or true (Argo's AnyString)", () => {
    const doc = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      spec: {
        arguments: { parameters: [{ name: "n", value: 5 }, { name: "b", value: true }, { name: "s", value: "x" }, { name: "z", value: null }] },
        templates: [{ name: "main", retryStrategy: { limit: 3 }, activeDeadlineSeconds: "10", container: { image: "busybox", args: [1, true, 2.5] } }],
      },
    };
    expect(shapeErrors(doc, "Workflow")).toEqual([]);
  });

  it("refuses a list or a map as a parameter's value or default, which Argo's AnyString would read as an empty string, saying how to pass it", () => {
    const doc = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", spec: { arguments: { parameters: [{ name: "l", value: [1, 2] }, { name: "m", default: { a: 1 } }] } } };
    expect(shapeErrors(doc, "Workflow")).toEqual([
      "spec.arguments.parameters[0].value: a list is no value of a parameter: Argo reads it as an empty string; write it as text (quoted: '[1,2]') to pass it as JSON",
      `spec.arguments.parameters[1].default: a map is no default of a parameter: Argo reads it as an empty string; write it as text (quoted: '{"a":1}') to pass it as JSON`,
    ]);
  });

  it("accepts withItems of mixed items, whatever the key's case", () => {
    const step = (key: string) => ({ name: "a", template: "x", [key]: ["a", 1, true, { os: "debian", v: [1, 2] }, ["nested"], null] });
    for (const key of ["withItems", "withitems", "WITHITEMS"]) {
      const doc = { kind: "Workflow", spec: { templates: [{ name: "main", steps: [[step(key)]] }] } };
      expect(shapeErrors(doc, "Workflow"), key).toEqual([]);
    }
  });

  it("checks a key of another case as the field it matches (withitems is withItems)", () => {
    const doc = { kind: "Workflow", spec: { templates: [{ name: "main", steps: [[{ name: "a", template: "x", withitems: "a,b" }]] }] } };
    expect(shapeErrors(doc, "Workflow")).toEqual(["spec.templates[0].steps[0][0].withitems: cannot unmarshal string into Go struct field WorkflowStep.withItems of type []v1alpha1.Item"]);
  });

  it("refuses metadata.labels given as a list", () => {
    const doc = wf(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: shape-
  labels: [a, b]
spec:
  entrypoint: main
  templates: [{name: main, container: {image: busybox}}]
`);
    expect(shapeErrors(doc, "Workflow")).toEqual(["metadata.labels: cannot unmarshal array into Go struct field ObjectMeta.labels of type map[string]string"]);
  });

  it("reports every mismatch, in the document's order, and none below a value of the wrong kind", () => {
    const doc = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { labels: { a: "x", b: ["y"] }, annotations: "no" },
      spec: {
        entrypoint: ["main"],
        unknownField: [1, 2],
        arguments: { parameters: [{ name: "a", value: { x: 1 } }, "p", [{ name: "b" }]] },
        templates: [
          { name: "main", dag: { tasks: { a: { template: "x" } } } },
          { name: "x", container: { image: "busybox", command: "echo", env: [{ name: "A", valueFrom: "x" }], resources: { limits: { cpu: [1] } } } },
          { name: "y", script: { image: "python", source: ["print(1)"] }, inputs: [] },
          "z",
        ],
      },
    };
    expect(shapeErrors(doc, "Workflow")).toEqual([
      "metadata.labels.b: cannot unmarshal array into Go struct field ObjectMeta.labels of type string",
      "metadata.annotations: cannot unmarshal string into Go struct field ObjectMeta.annotations of type map[string]string",
      "spec.entrypoint: cannot unmarshal array into Go struct field WorkflowSpec.entrypoint of type string",
      `spec.arguments.parameters[0].value: a map is no value of a parameter: Argo reads it as an empty string; write it as text (quoted: '{"x":1}') to pass it as JSON`,
      "spec.arguments.parameters[1]: cannot unmarshal string into Go struct field Arguments.parameters of type v1alpha1.Parameter",
      "spec.arguments.parameters[2]: cannot unmarshal array into Go struct field Arguments.parameters of type v1alpha1.Parameter",
      "spec.templates[0].dag.tasks: cannot unmarshal object into Go struct field DAGTemplate.tasks of type []v1alpha1.DAGTask",
      "spec.templates[1].container.command: cannot unmarshal string into Go struct field Container.command of type []string",
      "spec.templates[1].container.env[0].valueFrom: cannot unmarshal string into Go struct field EnvVar.valueFrom of type v1.EnvVarSource",
      "spec.templates[1].container.resources.limits.cpu: cannot unmarshal array into Go struct field ResourceRequirements.limits of type resource.Quantity",
      "spec.templates[2].script.source: cannot unmarshal array into Go struct field ScriptTemplate.source of type string",
      "spec.templates[2].inputs: cannot unmarshal array into Go struct field Template.inputs of type v1alpha1.Inputs",
      "spec.templates[3]: cannot unmarshal string into Go struct field WorkflowSpec.templates of type v1alpha1.Template",
    ]);
  });

  it("checks the other kinds against their own types", () => {
    expect(shapeErrors({ kind: "CronWorkflow", spec: { schedules: "* * * * *", workflowSpec: { templates: {} } } }, "CronWorkflow")).toEqual([
      "spec.schedules: cannot unmarshal string into Go struct field CronWorkflowSpec.schedules of type []string",
      "spec.workflowSpec.templates: cannot unmarshal object into Go struct field WorkflowSpec.templates of type []v1alpha1.Template",
    ]);
    for (const kind of ["WorkflowTemplate", "ClusterWorkflowTemplate"] as const) {
      expect(shapeErrors({ kind, spec: { templates: [{ name: "a", steps: [["x"]] }] } }, kind)).toEqual([
        "spec.templates[0].steps[0][0]: cannot unmarshal string into Go value of type v1alpha1.WorkflowStep",
      ]);
    }
    expect(shapeErrors([], "Workflow")).toEqual(["cannot unmarshal array into Go value of type v1alpha1.Workflow"]);
  });
});

describe("Argo's examples corpus", () => {
  /** What Argo refuses on purpose: the file and the errors it gives. */
  const MALFORMED: Record<string, string[]> = {
    "e2e/lintfail/malformed-spec.yaml": ["spec.entrypoint: cannot unmarshal array into Go struct field WorkflowSpec.entrypoint of type string"],
  };
  const KINDS = new Set(["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"]);
  const files = fs.readdirSync(corpus, { recursive: true, encoding: "utf8" }).filter((f) => /\.ya?ml$/.test(f)).sort();

  it("has the corpus", () => {
    expect(files.length).toBeGreaterThanOrEqual(125);
  });

  it("gives no error for any Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow of it", () => {
    const found: Record<string, string[]> = {};
    let checked = 0;
    for (const f of files) {
      for (const doc of parseManifests(fs.readFileSync(path.join(corpus, f), "utf8"), f, { shapes: false })) {
        const kind = String(doc.kind);
        if (!KINDS.has(kind)) continue;
        checked++;
        const errors = shapeErrors(doc, kind as "Workflow");
        if (errors.length) (found[f] ??= []).push(...errors);
      }
    }
    expect(found).toEqual(MALFORMED);
    expect(checked).toBeGreaterThanOrEqual(125);
  });

  it("gives the same with the yaml package's plain YAML 1.1 reading (no field names made canonical)", () => {
    for (const f of files) {
      const text = fs.readFileSync(path.join(corpus, f), "utf8");
      const docs = YAML.parseAllDocuments(text, { version: "1.1" });
      if (docs.some((d) => d.errors.length)) continue; // the lenient-yaml files: parseManifests' reading above covers them
      for (const d of docs) {
        const doc = d.toJS({ maxAliasCount: 1000 }) as { kind?: string } | null;
        if (!doc || !KINDS.has(String(doc.kind))) continue;
        expect(shapeErrors(doc, doc.kind as "Workflow"), f).toEqual(MALFORMED[f] ?? []);
      }
    }
  });
});
