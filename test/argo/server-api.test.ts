// The Argo Server API of `dflow server` (issue 12 scope 4): the real command
// is started in a fresh work directory, requests are sent as swagger.json
// defines them (paths, methods, bodies, query parameters), and the answers
// are checked for Argo's shapes: Workflows validated against schema.json's
// io.argoproj.workflow.v1alpha1.Workflow, errors as {code, message} with the
// HTTP status Argo's gateway uses. Workflows created over the API run in the
// server's process and show up in `dflow list` and the UI's /api/workflows.
// Runs that must stay running wait for a gate file the test creates; states
// are awaited by polling GET with a generous overall limit, never by time.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, type DflowServer, ROOT, startDflowServer } from "../support/ui.js";

// Answers are checked field by field against Argo's shapes: loosely typed JSON.
type Obj = Record<string, any>;

let work = "";
let shared = "";
let server: DflowServer;
let base = "";
let token = "";
let validateWorkflow: ((v: unknown) => boolean) & { errors?: unknown };
let validateTemplate: ((v: unknown) => boolean) & { errors?: unknown };
let validateCron: ((v: unknown) => boolean) & { errors?: unknown };
/** Argo's schema with no property beyond Argo's own: what the server adds (status, metadata) must pass it. */
let strictStatus: ((v: unknown) => boolean) & { errors?: unknown };
let strictMeta: ((v: unknown) => boolean) & { errors?: unknown };
const swagger = JSON.parse(fs.readFileSync(path.join(ROOT, "fixtures", "argo", "schema", "swagger.json"), "utf8")) as { paths: Record<string, Record<string, unknown>> };

/** A request as swagger.json defines it: `route` must be one of its paths (with its method), filled with `args`. */
async function call(method: string, route: string, args: Record<string, string>, init: { body?: unknown; query?: Record<string, string>; auth?: string | null } = {}): Promise<{ status: number; json: Obj; text: string }> {
  expect(swagger.paths[route]?.[method.toLowerCase()], `${method} ${route} in swagger.json`).toBeDefined();
  const url = new URL(route.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(args[k]!)), base);
  for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const auth = init.auth === undefined ? token : init.auth;
  if (auth !== null) headers.Authorization = `Bearer ${auth}`;
  const res = await fetch(url, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  let json: Obj = {};
  try {
    json = JSON.parse(text) as Obj;
  } catch {
    // a stream of JSON lines (logs)
  }
  return { status: res.status, json, text };
}

/**
 * Open a streaming GET as swagger.json defines it and read its lines until
 * `until` holds for the lines so far (or the stream ends); then close it.
 */
async function readStream(route: string, args: Record<string, string>, query: Record<string, string>, until: (lines: string[]) => boolean, accept?: string): Promise<{ lines: string[]; ended: boolean; contentType: string | null }> {
  expect(swagger.paths[route]?.get, `GET ${route} in swagger.json`).toBeDefined();
  const url = new URL(route.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(args[k]!)), base);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const ctl = new AbortController();
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, ...(accept ? { Accept: accept } : {}) }, signal: ctl.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let buf = "";
  const lines: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { lines, ended: true, contentType: res.headers.get("content-type") };
      buf += Buffer.from(value).toString("utf8");
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      if (until(lines)) return { lines, ended: false, contentType: res.headers.get("content-type") };
    }
  } finally {
    ctl.abort();
  }
}

const NS = "default";
const get = (name: string, namespace = NS) => call("GET", "/api/v1/workflows/{namespace}/{name}", { namespace, name });

/** The first value `probe` gives that is not undefined, polled (the overall limit is a backstop against a hang, not a timing assertion). */
async function poll<T>(what: string, probe: () => Promise<T | undefined>, last: () => unknown = () => undefined): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`never got to: ${what}; last: ${JSON.stringify(last()).slice(0, 2000)}`);
}

/** Poll the workflow until `until` holds. */
async function waitFor(name: string, until: (wf: Obj) => boolean, what: string, namespace = NS): Promise<Obj> {
  let last: Obj = {};
  return poll(
    `workflow ${name}: ${what}`,
    async () => {
      const r = await get(name, namespace);
      last = r.json;
      return r.status === 200 && until(r.json) ? r.json : undefined;
    },
    () => last,
  );
}
const nodeNamed = (wf: Obj, display: string) => (Object.values(wf.status?.nodes ?? {}) as Obj[]).find((n) => n.displayName === display);
const ended = (wf: Obj) => ["Succeeded", "Failed", "Error"].includes(wf.status?.phase);

function expectWorkflow(wf: unknown): void {
  const ok = validateWorkflow(wf);
  expect(ok ? [] : validateWorkflow.errors).toEqual([]);
  // The spec is the client's own; what the server writes has only fields Argo's clients know (Hera's models forbid others).
  const w = wf as Obj;
  expect(strictMeta(w.metadata) ? [] : strictMeta.errors).toEqual([]);
  if (w.status !== undefined) expect(strictStatus(w.status) ? [] : strictStatus.errors).toEqual([]);
}

const create = (workflow: Obj, extra: Obj = {}, namespace = NS) => call("POST", "/api/v1/workflows/{namespace}", { namespace }, { body: { namespace, workflow, ...extra } });

const pod = (name: string, script: string, extra: Obj = {}) => ({ name, container: { image: "alpine", command: ["sh", "-c"], args: [script] }, ...extra });

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema(JSON.parse(fs.readFileSync(path.join(ROOT, "fixtures", "argo", "schema", "schema.json"), "utf8")), "argo");
  validateWorkflow = ajv.getSchema("argo#/definitions/io.argoproj.workflow.v1alpha1.Workflow")! as typeof validateWorkflow;
  validateTemplate = ajv.getSchema("argo#/definitions/io.argoproj.workflow.v1alpha1.WorkflowTemplate")! as typeof validateTemplate;
  validateCron = ajv.getSchema("argo#/definitions/io.argoproj.workflow.v1alpha1.CronWorkflow")! as typeof validateCron;
  const strict = JSON.parse(fs.readFileSync(path.join(ROOT, "fixtures", "argo", "schema", "schema.json"), "utf8")) as { definitions: Record<string, Obj> };
  for (const d of Object.values(strict.definitions)) if (d.type === "object" && d.properties && d.additionalProperties === undefined) d.additionalProperties = false;
  const ajvStrict = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajvStrict);
  ajvStrict.addSchema(strict, "argo");
  strictStatus = ajvStrict.getSchema("argo#/definitions/io.argoproj.workflow.v1alpha1.WorkflowStatus")! as typeof strictStatus;
  strictMeta = ajvStrict.getSchema("argo#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")! as typeof strictMeta;
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-argo-api-")));
  // Gates the tests open and markers the pods leave: a folder pods write for real (each has a root of its own otherwise).
  shared = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-argo-api-shared-")));
  server = await startDflowServer(work, { DFLOW_ARGO_HOST_DIRS: shared });
  base = server.base;
  token = server.token;
});

afterAll(async () => {
  await server?.stop();
  for (const d of [work, shared]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe("dflow server: Argo workflows", () => {
  let helloName = "";

  it("creates a workflow (generateName), runs it in the server and serves Argo's status: phase, progress, nodes with inputs/outputs", async () => {
    const workflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { generateName: "hello-", labels: { team: "alpha" } },
      spec: {
        entrypoint: "main",
        arguments: { parameters: [{ name: "who", value: "world" }] },
        templates: [
          { name: "main", steps: [[{ name: "greet", template: "greet", arguments: { parameters: [{ name: "who", value: "{{workflow.parameters.who}}" }] } }], [{ name: "shout", template: "shout", arguments: { parameters: [{ name: "text", value: "{{steps.greet.outputs.parameters.greeting}}" }] } }]] },
          pod("greet", "echo hello {{inputs.parameters.who}} | tee /tmp/greeting", { inputs: { parameters: [{ name: "who" }] }, outputs: { parameters: [{ name: "greeting", valueFrom: { path: "/tmp/greeting" } }] } }),
          pod("shout", "echo '{{inputs.parameters.text}}' | tr a-z A-Z", { inputs: { parameters: [{ name: "text" }] } }),
        ],
      },
    };
    const r = await create(workflow);
    expect(r.status).toBe(200);
    expectWorkflow(r.json);
    const meta = r.json.metadata;
    expect(meta.name).toMatch(/^hello-[a-z0-9]{5}$/);
    expect(meta.namespace).toBe(NS);
    expect(meta.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    helloName = meta.name;

    const wf = await waitFor(helloName, ended, "an end");
    expectWorkflow(wf);
    expect(wf.status.phase).toBe("Succeeded");
    expect(wf.status.progress).toBe("2/2");
    // Argo's UI names a node's pod (for its logs) by this annotation: v1, the node's id.
    expect(wf.metadata.annotations["workflows.argoproj.io/pod-name-format"]).toBe("v1");
    // The repository Argo's UI reads a node's artifacts against: this server's S3.
    expect(wf.status.artifactRepositoryRef).toEqual({ default: true, artifactRepository: { s3: { bucket: "argo-artifacts", endpoint: new URL(base).host, insecure: true } } });
    expect(wf.status.startedAt).toBeTruthy();
    expect(wf.status.finishedAt).toBeTruthy();
    expect(wf.metadata.uid).toBe(meta.uid);
    expect(wf.metadata.labels).toMatchObject({ team: "alpha", "workflows.argoproj.io/phase": "Succeeded", "workflows.argoproj.io/completed": "true" });
    const nodes = Object.values(wf.status.nodes) as Obj[];
    for (const [id, n] of Object.entries(wf.status.nodes as Record<string, Obj>)) expect(n.id).toBe(id);
    const root = wf.status.nodes[helloName];
    expect(root).toMatchObject({ type: "Steps", phase: "Succeeded", templateName: "main", displayName: helloName, name: helloName });
    const greet = nodes.find((n) => n.displayName === "greet")!;
    expect(greet).toMatchObject({ type: "Pod", phase: "Succeeded", templateName: "greet", name: `${helloName}[0].greet` });
    expect(greet.inputs.parameters).toEqual([{ name: "who", value: "world" }]);
    expect(greet.outputs.parameters).toEqual([expect.objectContaining({ name: "greeting", value: "hello world" })]);
    expect(greet.outputs.exitCode).toBe("0");
    // A pod ran on this machine, at the address its daemons would serve on; a Steps node is no pod.
    expect([greet.hostNodeName, greet.podIP]).toEqual([os.hostname(), "127.0.0.1"]);
    expect([root.hostNodeName, root.podIP]).toEqual([undefined, undefined]);
    const shout = nodes.find((n) => n.displayName === "shout")!;
    expect(shout.outputs.result).toBe("HELLO WORLD");
    // Argo's graph (graph.ts): the root's child is its first step group, the next group hangs from the
    // previous group's pods, and the root's outbound nodes are its last group's.
    const group = nodes.find((n) => n.displayName === "[0]")!;
    const second = nodes.find((n) => n.displayName === "[1]")!;
    expect([group.type, second.type]).toEqual(["StepGroup", "StepGroup"]);
    expect(root.children).toEqual([group.id]);
    expect(group.children).toEqual([greet.id]);
    expect(greet.children).toEqual([second.id]);
    expect(second.children).toEqual([shout.id]);
    expect(root.outboundNodes).toEqual([shout.id]);
    expect(greet).not.toHaveProperty("outboundNodes");
  });

  it("lists the namespace's workflows, filtered by a label selector, with fields honoured", async () => {
    const all = await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS });
    expect(all.status).toBe(200);
    expect(all.json.items.map((w: Obj) => w.metadata.name)).toContain(helloName);
    for (const w of all.json.items) expectWorkflow(w);
    const alpha = await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { query: { "listOptions.labelSelector": "team=alpha", fields: "items.metadata.name,items.status.phase" } });
    expect(alpha.json.items).toEqual([{ metadata: { name: helloName }, status: { phase: "Succeeded" } }]);
    const none = await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { query: { "listOptions.labelSelector": "team=beta" } });
    expect(none.json.items).toEqual([]);
    const notIn = await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { query: { "listOptions.labelSelector": "team notin (alpha),workflows.argoproj.io/completed=true" } });
    expect(notIn.json.items.map((w: Obj) => w.metadata.name)).not.toContain(helloName);
    // An empty namespace: every namespace's workflows (Argo's UI, before a namespace is chosen).
    const elsewhere = await create({ metadata: { generateName: "elsewhere-" }, spec: { entrypoint: "a", templates: [pod("a", "true")] } }, {}, "elsewhere");
    expect(elsewhere.status).toBe(200);
    const every = await call("GET", "/api/v1/workflows/{namespace}", { namespace: "" });
    expect(every.json.items.map((w: Obj) => [w.metadata.namespace, w.metadata.name])).toEqual(expect.arrayContaining([[NS, helloName], ["elsewhere", elsewhere.json.metadata.name]]));
    // spec.arguments is always there, as Go's struct is in Argo's JSON (Argo's UI reads its parameters).
    expect(every.json.items.find((w: Obj) => w.metadata.namespace === "elsewhere").spec.arguments).toEqual({});
    const onlyThere = await call("GET", "/api/v1/workflows/{namespace}", { namespace: "" }, { query: { "listOptions.fieldSelector": "metadata.namespace=elsewhere" } });
    expect(onlyThere.json.items.map((w: Obj) => w.metadata.name)).toEqual([elsewhere.json.metadata.name]);
    expect((await call("GET", "/api/v1/cron-workflows/{namespace}", { namespace: "" })).json).toMatchObject({ items: expect.any(Array) });
    // Field selectors as Argo's UI sends them (both fields Kubernetes selects custom resources by).
    const byFields = async (sel: string) => (await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { query: { "listOptions.fieldSelector": sel } })).json;
    expect((await byFields(`metadata.namespace=${NS},metadata.name=${helloName}`)).items.map((w: Obj) => w.metadata.name)).toEqual([helloName]);
    expect((await byFields(`metadata.name!=${helloName}`)).items.map((w: Obj) => w.metadata.name)).not.toContain(helloName);
    expect(await byFields(`metadata.namespace=other,metadata.name=${helloName}`)).toMatchObject({ code: 3, message: expect.stringContaining("contradict each other") });
    expect(await byFields("status.phase=Running")).toMatchObject({ code: 3, message: "listOptions.fieldSelector: unsupported requirement status.phase=Running" });
    const other = await call("GET", "/api/v1/workflows/{namespace}", { namespace: "other" });
    expect(other.json.items).toEqual([]);
    const bad = await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { query: { "listOptions.labelSelector": "team=(" } });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe(3);
    const noNodes = await call("GET", "/api/v1/workflows/{namespace}/{name}", { namespace: NS, name: helloName }, { query: { fields: "-status.nodes" } });
    expect(noNodes.json.status.phase).toBe("Succeeded");
    expect(noNodes.json.status.nodes).toBeUndefined();
  });

  it("selects, pages and watches as Argo's UI asks: name filters, time bounds, limit and continue, a watch from the list's resourceVersion", async () => {
    const PG = "paged";
    const made: string[] = [];
    for (const prefix of ["alpha-", "alphabet-", "beta-"]) {
      const r = await create({ metadata: { generateName: prefix }, spec: { entrypoint: "a", templates: [pod("a", "true")] } }, {}, PG);
      made.push(r.json.metadata.name);
      await waitFor(r.json.metadata.name, ended, "an end", PG);
    }
    const list = async (query: Record<string, string>) => (await call("GET", "/api/v1/workflows/{namespace}", { namespace: PG }, { query })).json;
    const names = (l: Obj) => (l.items as Obj[]).map((w) => w.metadata.name as string).sort();
    expect(names(await list({ "listOptions.fieldSelector": "metadata.name=alpha", nameFilter: "Contains" }))).toEqual([made[0], made[1]]);
    expect(names(await list({ "listOptions.fieldSelector": "metadata.name=alphab", nameFilter: "Prefix" }))).toEqual([made[1]]);
    expect(names(await list({ "listOptions.fieldSelector": `metadata.name=${made[2]}`, nameFilter: "NotEquals" }))).toEqual([made[0], made[1]]);
    expect((await list({ nameFilter: "Like" })).code).toBe(3);
    const later = new Date(Date.now() + 3600_000).toISOString();
    const earlier = new Date(Date.now() - 3600_000).toISOString();
    expect(names(await list({ createdAfter: later }))).toEqual([]);
    expect(names(await list({ createdAfter: earlier, finishedBefore: later }))).toEqual([...made].sort());
    expect(names(await list({ finishedBefore: earlier }))).toEqual([]);
    // Pages of 2, newest first; continue is the next page's offset.
    const first = await list({ "listOptions.limit": "2" });
    expect([first.items.length, first.metadata.continue]).toEqual([2, "2"]);
    const second = await list({ "listOptions.limit": "2", "listOptions.continue": "2" });
    expect([second.items.length, second.metadata.continue]).toEqual([1, undefined]);
    expect([...names(first), ...names(second)].sort()).toEqual([...made].sort());
    expect((await list({ "listOptions.continue": "x" })).message).toBe("listOptions.continue must be int");
    // A watch from the list's resourceVersion reports what changed since (a workflow made after it), not
    // every workflow the list already had.
    const watching = readStream("/api/v1/workflow-events/{namespace}", { namespace: PG }, { "listOptions.resourceVersion": first.metadata.resourceVersion }, (lines) => lines.some((l) => (JSON.parse(l) as Obj).result.object.metadata.name.startsWith("gamma-")));
    const gamma = await create({ metadata: { generateName: "gamma-" }, spec: { entrypoint: "a", templates: [pod("a", "true")] } }, {}, PG);
    const events = (await watching).lines.map((l) => (JSON.parse(l) as Obj).result);
    expect(events.filter((e: Obj) => made.includes(e.object.metadata.name))).toEqual([]);
    expect(events.find((e: Obj) => e.object.metadata.name === gamma.json.metadata.name).type).toBe("ADDED");
  });

  it("streams the Events Argo's controller records for a workflow (its phase, each node's start and end), as Argo's UI's Events tab asks", async () => {
    const sel = `involvedObject.kind=Workflow,involvedObject.name=${helloName}`;
    const { lines } = await readStream("/api/v1/stream/events/{namespace}", { namespace: NS }, { "listOptions.fieldSelector": sel }, (ls) => ls.some((l) => l.startsWith("data:") && (JSON.parse(l.slice(5)) as Obj).result.reason === "WorkflowSucceeded"), "text/event-stream");
    const events = lines.filter((l) => l.startsWith("data:")).map((l) => (JSON.parse(l.slice(5)) as Obj).result as Obj);
    expect(events[0]).toMatchObject({ reason: "WorkflowRunning", type: "Normal", involvedObject: { kind: "Workflow", name: helloName, namespace: NS } });
    expect(events.at(-1)).toMatchObject({ reason: "WorkflowSucceeded", message: "Workflow completed" });
    const greet = events.filter((e) => e.metadata.annotations?.["workflows.argoproj.io/node-name"] === `${helloName}[0].greet`);
    expect(greet.map((e) => [e.reason, e.message, e.type])).toEqual([
      ["WorkflowNodeRunning", `Running node ${helloName}[0].greet`, "Normal"],
      ["WorkflowNodeSucceeded", `Succeeded node ${helloName}[0].greet`, "Normal"],
    ]);
    expect(new Set(events.map((e) => e.metadata.name)).size).toBe(events.length);
    const bad = await call("GET", "/api/v1/stream/events/{namespace}", { namespace: NS }, { query: { "listOptions.fieldSelector": "spec.x=1" } });
    expect([bad.status, bad.json.code]).toEqual([400, 3]);
  });

  it("serves logs as Argo's newline-delimited JSON, of the workflow and of one pod", async () => {
    const r = await call("GET", "/api/v1/workflows/{namespace}/{name}/log", { namespace: NS, name: helloName }, { query: { "logOptions.container": "main", "logOptions.follow": "false" } });
    expect(r.status).toBe(200);
    const lines = r.text.trim().split("\n").map((l) => JSON.parse(l) as Obj);
    expect(lines.map((l) => l.result.content)).toEqual(["hello world", "HELLO WORLD"]);
    const wf = (await get(helloName)).json;
    const greet = (Object.values(wf.status.nodes) as Obj[]).find((n) => n.displayName === "greet")!;
    expect(lines[0]!.result.podName).toBe(greet.id);
    const one = await call("GET", "/api/v1/workflows/{namespace}/{name}/{podName}/log", { namespace: NS, name: helloName, podName: greet.id }, { query: { "logOptions.container": "main" } });
    expect(one.text).toBe(`${JSON.stringify({ result: { content: "hello world", podName: greet.id } })}\n`);
    const grep = await call("GET", "/api/v1/workflows/{namespace}/{name}/log", { namespace: NS, name: helloName }, { query: { grep: "HELLO" } });
    expect(grep.text.trim().split("\n").map((l) => (JSON.parse(l) as Obj).result.content)).toEqual(["HELLO WORLD"]);
    // tailLines is per pod, as Kubernetes applies it to each pod's log.
    const multi = await create({ metadata: { generateName: "lines-" }, spec: { entrypoint: "main", templates: [{ name: "main", steps: [[{ name: "a", template: "count" }], [{ name: "b", template: "count" }]] }, pod("count", "echo 1; echo 2; echo 3")] } });
    await waitFor(multi.json.metadata.name, ended, "an end");
    const tail = await call("GET", "/api/v1/workflows/{namespace}/{name}/log", { namespace: NS, name: multi.json.metadata.name }, { query: { "logOptions.tailLines": "2" } });
    expect(tail.text.trim().split("\n").map((l) => (JSON.parse(l) as Obj).result.content)).toEqual(["2", "3", "2", "3"]);
    const nopod = await call("GET", "/api/v1/workflows/{namespace}/{name}/{podName}/log", { namespace: NS, name: helloName, podName: "nope" });
    expect(nopod.status).toBe(404);
    expect(nopod.json.code).toBe(5);
    // The argo CLI over HTTP/1 asks for server-sent events and reads `data: {"result": ...}` lines.
    const sse = await readStream("/api/v1/workflows/{namespace}/{name}/log", { namespace: NS, name: helloName }, { "logOptions.container": "main" }, () => false, "text/event-stream");
    expect(sse.contentType).toMatch(/text\/event-stream/);
    expect(sse.lines.filter((l) => l.startsWith("data: ")).map((l) => (JSON.parse(l.slice(6)) as Obj).result.content)).toEqual(["hello world", "HELLO WORLD"]);
    const init = await call("GET", "/api/v1/workflows/{namespace}/{name}/log", { namespace: NS, name: helloName }, { query: { "logOptions.container": "init" } });
    expect(init.status).toBe(400);
    expect(init.json.message).toMatch(/Argo's executor containers do not exist locally/);
    // A sidecar's log by its container name. Main waits until the sidecar has spoken (a file in an
    // emptyDir both mount, as a pod's containers share files), else it may end before the sidecar starts.
    const talk = { volumes: [{ name: "talk", emptyDir: {} }] };
    const mount = { volumeMounts: [{ name: "talk", mountPath: "/talk" }] };
    const main = pod("main", "until [ -e /talk/up ]; do sleep 0.05; done; echo from main");
    const side = await create({ metadata: { generateName: "side-" }, spec: { entrypoint: "main", templates: [{ ...main, ...talk, container: { ...main.container, ...mount }, sidecars: [{ name: "helper", image: "alpine", command: ["sh", "-c", "echo from the sidecar; touch /talk/up; exec sleep 600"], ...mount }] }] } });
    await waitFor(side.json.metadata.name, ended, "an end");
    const sideLog = await call("GET", "/api/v1/workflows/{namespace}/{name}/log", { namespace: NS, name: side.json.metadata.name }, { query: { "logOptions.container": "helper" } });
    expect(sideLog.text.trim().split("\n").map((l) => (JSON.parse(l) as Obj).result.content)).toEqual(["from the sidecar"]);
  });

  it("shows the API's workflow in `dflow list` and in the UI's /api/workflows (same work directory)", async () => {
    const r = await execa(process.execPath, [CLI, "list", "--json"], { cwd: work, env: { DFLOW_DEBUG_WORKDIR: work } });
    const list = JSON.parse(r.stdout) as Obj[];
    expect(list.find((w) => w.id === helloName)).toMatchObject({ status: "Succeeded" });
    const ui = await fetch(new URL("/api/workflows", base), { headers: { Authorization: `Bearer ${token}` } });
    expect(((await ui.json()) as Obj[]).map((w) => w.id)).toContain(helloName);
  });

  it("lints: a valid manifest comes back, an invalid or unsupported one is 400 with Argo's {code: 3, message}", async () => {
    const good = await call("POST", "/api/v1/workflows/{namespace}/lint", { namespace: NS }, { body: { namespace: NS, workflow: { metadata: { generateName: "lint-" }, spec: { entrypoint: "a", templates: [pod("a", "true")] } } } });
    expect(good.status).toBe(200);
    expect(good.json.kind).toBe("Workflow");
    const bad = await call("POST", "/api/v1/workflows/{namespace}/lint", { namespace: NS }, { body: { namespace: NS, workflow: { metadata: { name: "bad" }, spec: { entrypoint: "missing", templates: [pod("a", "true")] } } } });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ code: 3, message: "invalid spec: spec.entrypoint template name 'missing' undefined" });
    const k8s = await call("POST", "/api/v1/workflows/{namespace}/lint", { namespace: NS }, { body: { namespace: NS, workflow: { metadata: { name: "vol" }, spec: { entrypoint: "a", volumes: [{ name: "v", nfs: { server: "nas", path: "/" } }], templates: [pod("a", "true")] } } } });
    expect(k8s.status).toBe(400);
    expect(k8s.json.message).toBe("spec.volumes.v is not supported when running Argo workflows locally: only configMap, secret, emptyDir, persistentVolumeClaim and hostPath volumes are (got nfs)");
    // Nothing ran: no workflow directory was made by lint.
    expect(fs.readdirSync(work).filter((d) => d.startsWith("lint-") || d === "bad" || d === "vol")).toEqual([]);
    // create refuses the same way, before anything runs.
    const created = await create({ metadata: { name: "bad" }, spec: { entrypoint: "missing", templates: [pod("a", "true")] } });
    expect(created.status).toBe(400);
    expect(fs.existsSync(path.join(work, "bad"))).toBe(false);
  });

  it("refuses requests without the token or with a wrong one: 401, code 16", async () => {
    for (const auth of [null, "wrong"]) {
      const r = await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { auth });
      expect(r.status).toBe(401);
      expect(r.json.code).toBe(16);
      const c = await call("POST", "/api/v1/workflows/{namespace}", { namespace: NS }, { auth, body: { namespace: NS, workflow: { metadata: { name: "intruder" }, spec: { entrypoint: "a", templates: [pod("a", "true")] } } } });
      expect(c.status).toBe(401);
    }
    expect(fs.existsSync(path.join(work, "intruder"))).toBe(false);
  });

  it("takes the token from Argo's UI's authorization cookie, from the page's own origin only (not another port of this host)", async () => {
    const url = new URL(`api/v1/workflows/${NS}`, base);
    const cookie = `authorization=Bearer ${token}`; // as the UI's login writes document.cookie
    const get = (headers: Record<string, string>) => fetch(url, { headers: { Cookie: cookie, ...headers } });
    expect((await get({ "Sec-Fetch-Site": "same-origin", Origin: `http://${url.host}` })).status).toBe(200);
    expect((await get({ Cookie: `authorization=${encodeURIComponent(`"Bearer ${token}"`)}` })).status).toBe(200);
    const elsewhere = await get({ "Sec-Fetch-Site": "same-site", Origin: "http://127.0.0.1:1" });
    expect(elsewhere.status).toBe(401);
    expect(((await elsewhere.json()) as Obj).message).toContain("authorization cookie");
    expect((await get({ Origin: "http://127.0.0.1:1" })).status).toBe(401);
    const post = await fetch(url, { method: "POST", headers: { Cookie: cookie, "Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain" }, body: JSON.stringify({ workflow: { metadata: { name: "forged" }, spec: { entrypoint: "a", templates: [pod("a", "true")] } } }) });
    expect(post.status).toBe(401);
    expect(fs.existsSync(path.join(work, "forged"))).toBe(false);
  });

  it("honours metadata.name exactly, refuses it again (409, code 6), and serverDryRun runs nothing", async () => {
    const wf = { metadata: { name: "exact-name" }, spec: { entrypoint: "a", templates: [pod("a", "echo {{workflow.name}} {{workflow.namespace}}")] } };
    const dry = await create(wf, { serverDryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.json.metadata.name).toBe("exact-name");
    expect(fs.existsSync(path.join(work, "exact-name"))).toBe(false);
    expect((await create(wf, { createOptions: { dryRun: ["All"] } })).status).toBe(200);
    expect(fs.existsSync(path.join(work, "exact-name"))).toBe(false);
    const r = await create(wf);
    expect(r.status).toBe(200);
    expect(r.json.metadata.name).toBe("exact-name");
    const again = await create(wf);
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ code: 6, message: 'workflows.argoproj.io "exact-name" already exists' });
    const done = await waitFor("exact-name", ended, "an end");
    const node = done.status.nodes["exact-name"];
    expect(node.outputs.result).toBe(`exact-name ${NS}`);
  });

  it("answers for unknown workflows with 404, code 5", async () => {
    const r = await get("no-such-workflow");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ code: 5, message: 'workflows.argoproj.io "no-such-workflow" not found' });
    // Another namespace does not see the workflow.
    const other = await call("GET", "/api/v1/workflows/{namespace}/{name}", { namespace: "other", name: helloName });
    expect(other.status).toBe(404);
  });
});

describe("dflow server: workflow templates", () => {
  const template = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "WorkflowTemplate",
    metadata: { name: "greeter" },
    spec: {
      entrypoint: "say",
      arguments: { parameters: [{ name: "word", value: "default" }] },
      templates: [pod("say", "echo said {{inputs.parameters.word}}", { inputs: { parameters: [{ name: "word", value: "{{workflow.parameters.word}}" }] } })],
    },
  };

  it("creates, gets, lists and updates a WorkflowTemplate; a duplicate is 409", async () => {
    const r = await call("POST", "/api/v1/workflow-templates/{namespace}", { namespace: NS }, { body: { namespace: NS, template } });
    expect(r.status).toBe(200);
    expect(validateTemplate(r.json) ? [] : validateTemplate.errors).toEqual([]);
    expect(r.json.metadata).toMatchObject({ name: "greeter", namespace: NS });
    const dup = await call("POST", "/api/v1/workflow-templates/{namespace}", { namespace: NS }, { body: { namespace: NS, template } });
    expect(dup.status).toBe(409);
    expect(dup.json.code).toBe(6);
    const got = await call("GET", "/api/v1/workflow-templates/{namespace}/{name}", { namespace: NS, name: "greeter" });
    expect(got.json.spec.entrypoint).toBe("say");
    const list = await call("GET", "/api/v1/workflow-templates/{namespace}", { namespace: NS });
    expect(list.json.items.map((t: Obj) => t.metadata.name)).toEqual(["greeter"]);
    // An empty namespace lists every namespace's, as Argo's UI asks before one is chosen.
    const everywhere = await call("GET", "/api/v1/workflow-templates/{namespace}", { namespace: "" });
    expect(everywhere.json.items.map((t: Obj) => [t.metadata.namespace, t.metadata.name])).toContainEqual([NS, "greeter"]);
    const upd = await call("PUT", "/api/v1/workflow-templates/{namespace}/{name}", { namespace: NS, name: "greeter" }, { body: { namespace: NS, name: "greeter", template: { ...template, spec: { ...template.spec, arguments: { parameters: [{ name: "word", value: "updated" }] } } } } });
    expect(upd.status).toBe(200);
    expect(upd.json.spec.arguments.parameters[0].value).toBe("updated");
    expect(upd.json.metadata.uid).toBe(r.json.metadata.uid);
    const badLint = await call("POST", "/api/v1/workflow-templates/{namespace}/lint", { namespace: NS }, { body: { namespace: NS, template: { metadata: { name: "broken" }, spec: { templates: [{ name: "s", steps: [[{ name: "x", template: "nowhere" }]] }] } } } });
    expect(badLint.status).toBe(400);
    expect(badLint.json.message).toMatch(/template name 'nowhere' undefined/);
  });

  it("submits a workflow from the WorkflowTemplate with parameters and labels; it runs to Succeeded", async () => {
    const r = await call("POST", "/api/v1/workflows/{namespace}/submit", { namespace: NS }, { body: { namespace: NS, resourceKind: "WorkflowTemplate", resourceName: "greeter", submitOptions: { parameters: ["word=hi"], labels: "origin=test" } } });
    expect(r.status).toBe(200);
    expectWorkflow(r.json);
    expect(r.json.metadata.name).toMatch(/^greeter-[a-z0-9]{5}$/);
    expect(r.json.metadata.labels).toMatchObject({ origin: "test", "workflows.argoproj.io/workflow-template": "greeter" });
    const wf = await waitFor(r.json.metadata.name, ended, "an end");
    expect(wf.status.phase).toBe("Succeeded");
    expect(wf.status.nodes[wf.metadata.name].outputs.result).toBe("said hi");
    const bad = await call("POST", "/api/v1/workflows/{namespace}/submit", { namespace: NS }, { body: { namespace: NS, resourceKind: "WorkflowTemplate", resourceName: "greeter", submitOptions: { parameters: ["nope=1"] } } });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/has no argument "nope"/);
    const missing = await call("POST", "/api/v1/workflows/{namespace}/submit", { namespace: NS }, { body: { namespace: NS, resourceKind: "WorkflowTemplate", resourceName: "absent" } });
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe(5);
  });

  it("a ClusterWorkflowTemplate serves templateRef of a created workflow; deleting a template makes it 404", async () => {
    const cwt = { apiVersion: "argoproj.io/v1alpha1", kind: "ClusterWorkflowTemplate", metadata: { name: "shared-tools" }, spec: { templates: [pod("upper", "echo {{inputs.parameters.s}} | tr a-z A-Z", { inputs: { parameters: [{ name: "s" }] } })] } };
    const c = await call("POST", "/api/v1/cluster-workflow-templates", {}, { body: { template: cwt } });
    expect(c.status).toBe(200);
    const r = await create({ metadata: { generateName: "uses-ref-" }, spec: { entrypoint: "main", templates: [{ name: "main", steps: [[{ name: "up", templateRef: { name: "shared-tools", template: "upper", clusterScope: true }, arguments: { parameters: [{ name: "s", value: "abc" }] } }]] }] } });
    expect(r.status).toBe(200);
    const wf = await waitFor(r.json.metadata.name, ended, "an end");
    expect(wf.status.phase).toBe("Succeeded");
    const up = (Object.values(wf.status.nodes) as Obj[]).find((n) => n.displayName === "up")!;
    expect(up.outputs.result).toBe("ABC");
    const del = await call("DELETE", "/api/v1/cluster-workflow-templates/{name}", { name: "shared-tools" });
    expect(del.status).toBe(200);
    const gone = await call("GET", "/api/v1/cluster-workflow-templates/{name}", { name: "shared-tools" });
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe(5);
    // A workflow that references it now fails its lint.
    const again = await create({ metadata: { generateName: "uses-ref-" }, spec: { entrypoint: "main", templates: [{ name: "main", steps: [[{ name: "up", templateRef: { name: "shared-tools", template: "upper", clusterScope: true }, arguments: { parameters: [{ name: "s", value: "abc" }] } }]] }] } });
    expect(again.status).toBe(400);
    expect(again.json.message).toMatch(/shared-tools/);
  });
});

describe("dflow server: a WorkflowTemplate's own volumes", () => {
  it("serve its templates called by templateRef, and a workflow that does not use it is not held to it", async () => {
    const vol = {
      metadata: { name: "with-volume" },
      spec: {
        volumeClaimTemplates: [{ metadata: { name: "work" } }],
        templates: [pod("write", "echo kept > /mnt/w/f && cat /mnt/w/f", { container: { image: "alpine", command: ["sh", "-c"], args: ["echo kept > /mnt/w/f && cat /mnt/w/f"], volumeMounts: [{ name: "work", mountPath: "/mnt/w" }] } })],
      },
    };
    expect((await call("POST", "/api/v1/workflow-templates/{namespace}", { namespace: "vols" }, { body: { namespace: "vols", template: vol } })).status).toBe(200);
    const create = (workflow: Obj) => call("POST", "/api/v1/workflows/{namespace}", { namespace: "vols" }, { body: { namespace: "vols", workflow } });
    const uses = await create({ metadata: { name: "uses-volume-template" }, spec: { entrypoint: "main", templates: [{ name: "main", steps: [[{ name: "w", templateRef: { name: "with-volume", template: "write" } }]] }] } });
    expect(uses.status, JSON.stringify(uses.json)).toBe(200);
    const other = await create({ metadata: { name: "plain-in-vols" }, spec: { entrypoint: "a", templates: [pod("a", "echo plain")] } });
    expect(other.status, JSON.stringify(other.json)).toBe(200);
    const wf = await waitFor("uses-volume-template", ended, "an end", "vols");
    expect([wf.status.phase, nodeNamed(wf, "w")?.outputs.result]).toEqual(["Succeeded", "kept"]);
    expect((await waitFor("plain-in-vols", ended, "an end", "vols")).status.phase).toBe("Succeeded");
  });
});

describe("dflow server: controlling running workflows", () => {
  // Container paths under /tmp are moved into each node's own directory (engine/argo/sandbox.ts);
  // the test's host paths reach the pods in env values prefixed with "x" (not rewritten), stripped by sh.
  const hostPath = (name: string, p: string) => ({ env: [{ name, value: `x${p}` }] });
  const withEnv = (t: Obj, env: Obj) => ({ ...t, container: { ...t.container, ...env } });
  /** A workflow whose first pod waits for `gate`, then an exit handler that records it ran. */
  const gated = (name: string, gate: string, marker: string) => ({
    metadata: { name },
    spec: {
      entrypoint: "main",
      onExit: "bye",
      templates: [
        { name: "main", steps: [[{ name: "wait", template: "wait" }], [{ name: "after", template: "after" }]] },
        withEnv(pod("wait", 'echo started; while [ ! -e "${GATE#x}" ]; do sleep 0.05; done; echo released'), hostPath("GATE", gate)),
        pod("after", "echo after"),
        withEnv(pod("bye", 'echo {{workflow.status}} > "${MARKER#x}"'), hostPath("MARKER", marker)),
      ],
    },
  });
  const running = (wf: Obj) => nodeNamed(wf, "wait")?.phase === "Running" && fs.existsSync(path.join(work, wf.metadata.name, nodeNamed(wf, "wait")!.id, "log.txt")) && fs.readFileSync(path.join(work, wf.metadata.name, nodeNamed(wf, "wait")!.id, "log.txt"), "utf8").includes("started");

  it("terminate: the running pod is killed, nothing else runs (no exit handler), the workflow Fails with Argo's message", async () => {
    const marker = path.join(shared, "terminate-exit");
    expect((await create(gated("to-terminate", path.join(shared, "never-1"), marker))).status).toBe(200);
    await waitFor("to-terminate", running, "its pod running");
    const r = await call("PUT", "/api/v1/workflows/{namespace}/{name}/terminate", { namespace: NS, name: "to-terminate" }, { body: { namespace: NS, name: "to-terminate" } });
    expect(r.status).toBe(200);
    expectWorkflow(r.json);
    expect(r.json.status).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Terminate'" });
    expect(r.json.spec.shutdown).toBe("Terminate");
    expect(nodeNamed(r.json, "wait")).toMatchObject({ phase: "Failed", message: "workflow shutdown with strategy: Terminate" });
    expect(nodeNamed(r.json, "after")).toBeUndefined();
    expect(nodeNamed(r.json, "to-terminate.onExit")).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(false);
    const again = await call("PUT", "/api/v1/workflows/{namespace}/{name}/terminate", { namespace: NS, name: "to-terminate" }, { body: {} });
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ code: 9 });
    expect(again.json.message).toMatch(/completed workflow/);
  });

  it("stop: the running pod is killed and the exit handler still runs", async () => {
    const marker = path.join(shared, "stop-exit");
    expect((await create(gated("to-stop", path.join(shared, "never-2"), marker))).status).toBe(200);
    await waitFor("to-stop", running, "its pod running");
    // Hera and `argo stop --message` send a message: Argo uses it only with nodeFieldSelector, and so do we.
    const r = await call("PUT", "/api/v1/workflows/{namespace}/{name}/stop", { namespace: NS, name: "to-stop" }, { body: { namespace: NS, name: "to-stop", message: "enough" } });
    expect(r.status).toBe(200);
    expect(r.json.status).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Stop'" });
    expect(r.json.spec.shutdown).toBe("Stop");
    expect(nodeNamed(r.json, "wait")?.phase).toBe("Failed");
    expect(nodeNamed(r.json, "to-stop.onExit")?.phase).toBe("Succeeded");
    expect(fs.readFileSync(marker, "utf8").trim()).toBe("Failed");
  });

  it("suspend holds the next pod (Pending) until resume; then the workflow succeeds", async () => {
    const gate = path.join(shared, "gate-suspend");
    const marker = path.join(shared, "suspend-exit");
    expect((await create(gated("to-suspend", gate, marker))).status).toBe(200);
    await waitFor("to-suspend", running, "its pod running");
    const s = await call("PUT", "/api/v1/workflows/{namespace}/{name}/suspend", { namespace: NS, name: "to-suspend" }, { body: { namespace: NS, name: "to-suspend" } });
    expect(s.status).toBe(200);
    expect(s.json.spec.suspend).toBe(true);
    fs.writeFileSync(gate, "");
    const held = await waitFor("to-suspend", (wf) => nodeNamed(wf, "wait")?.phase === "Succeeded" && nodeNamed(wf, "after")?.phase === "Pending", "the next pod held");
    expect(held.status.phase).toBe("Running");
    const r = await call("PUT", "/api/v1/workflows/{namespace}/{name}/resume", { namespace: NS, name: "to-suspend" }, { body: { namespace: NS, name: "to-suspend" } });
    expect(r.status).toBe(200);
    const wf = await waitFor("to-suspend", ended, "an end");
    expect(wf.status.phase).toBe("Succeeded");
    expect(wf.spec.suspend).toBeUndefined();
    expect(nodeNamed(wf, "after")?.outputs.result).toBe("after");
  });

  it("a suspend node without a duration waits (Running) until argo resume, which ends it as Succeeded", async () => {
    const workflow = { metadata: { name: "approval" }, spec: { entrypoint: "main", templates: [{ name: "main", steps: [[{ name: "approve", template: "approve" }], [{ name: "go", template: "go" }]] }, { name: "approve", suspend: {} }, pod("go", "echo go")] } };
    expect((await create(workflow)).status).toBe(200);
    const waiting = await waitFor("approval", (wf) => nodeNamed(wf, "approve")?.phase === "Running", "the suspend node waiting");
    expect([waiting.status.phase, nodeNamed(waiting, "approve")?.type, nodeNamed(waiting, "go")]).toEqual(["Running", "Suspend", undefined]);
    expect((await call("PUT", "/api/v1/workflows/{namespace}/{name}/resume", { namespace: NS, name: "approval" }, { body: { namespace: NS, name: "approval" } })).status).toBe(200);
    const wf = await waitFor("approval", ended, "an end");
    expect([wf.status.phase, nodeNamed(wf, "approve")?.phase, nodeNamed(wf, "go")?.outputs.result]).toEqual(["Succeeded", "Succeeded", "go"]);
  });

  it("argo node set gives a waiting suspend node its supplied outputs; a resume of one node ends only it, a stop of one node fails only it", async () => {
    const supplied = (name: string) => ({ name, valueFrom: { supplied: {} } });
    const workflow = {
      metadata: { name: "intermediate" },
      spec: {
        entrypoint: "main",
        templates: [
          { name: "main", steps: [[{ name: "approve", template: "approve" }, { name: "review", template: "review" }], [{ name: "go", template: "go", arguments: { parameters: [{ name: "choice", value: "{{steps.approve.outputs.parameters.choice}}" }] } }]] },
          { name: "approve", suspend: {}, outputs: { parameters: [supplied("choice"), { name: "fixed", value: "x" }] } },
          { name: "review", suspend: {} },
          { name: "go", inputs: { parameters: [{ name: "choice" }] }, container: { image: "alpine", command: ["echo", "{{inputs.parameters.choice}}"] } },
        ],
      },
    };
    expect((await create(workflow)).status).toBe(200);
    await waitFor("intermediate", (wf) => nodeNamed(wf, "approve")?.phase === "Running" && nodeNamed(wf, "review")?.phase === "Running", "both suspend nodes waiting");
    const set = (body: Obj) => call("PUT", "/api/v1/workflows/{namespace}/{name}/set", { namespace: NS, name: "intermediate" }, { body: { namespace: NS, name: "intermediate", ...body } });
    // Refused as Argo refuses them: a parameter the node does not declare, one not supplied by hand, a node that does not wait.
    expect((await set({ nodeFieldSelector: "displayName=approve", outputParameters: '{"nope":"1"}' })).json.message).toBe("node is not expecting output parameter 'nope'");
    expect((await set({ nodeFieldSelector: "displayName=approve", outputParameters: '{"fixed":"1"}' })).json.message).toBe("cannot set output parameter 'fixed' because it does not use valueFrom.raw or it was already set");
    const none = await set({ nodeFieldSelector: "displayName=go", phase: "Succeeded" });
    expect([none.status, none.json.message]).toEqual([400, "currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: displayName=go"]);
    expect((await set({ nodeFieldSelector: "displayName=approve", outputParameters: '{"choice":"yes"}' })).status).toBe(200);
    // Outputs alone do not end the wait; the node's resume does, and only that node's.
    expect(nodeNamed((await get("intermediate")).json, "approve")?.phase).toBe("Running");
    expect((await call("PUT", "/api/v1/workflows/{namespace}/{name}/resume", { namespace: NS, name: "intermediate" }, { body: { namespace: NS, name: "intermediate", nodeFieldSelector: "displayName=approve" } })).status).toBe(200);
    const approved = await waitFor("intermediate", (wf) => nodeNamed(wf, "approve")?.phase === "Succeeded", "approve resumed");
    expect(nodeNamed(approved, "approve")?.outputs.parameters).toEqual([{ name: "choice", value: "yes" }, { name: "fixed", value: "x" }]);
    expect(nodeNamed(approved, "review")?.phase).toBe("Running");
    // `argo stop --node-field-selector --message`: the suspend node it picks ends Failed with the message (util.StopWorkflow).
    const stop = await call("PUT", "/api/v1/workflows/{namespace}/{name}/stop", { namespace: NS, name: "intermediate" }, { body: { namespace: NS, name: "intermediate", nodeFieldSelector: "displayName=review", message: "rejected by hand" } });
    expect(stop.status, stop.text).toBe(200);
    const wf = await waitFor("intermediate", ended, "an end");
    expect([wf.status.phase, nodeNamed(wf, "review")?.phase, nodeNamed(wf, "review")?.message, nodeNamed(wf, "go")]).toEqual(["Failed", "Failed", "rejected by hand", undefined]);
  });

  it("follows a running workflow's log until it ends, and watches it change (workflow-events)", async () => {
    const gate = path.join(shared, "gate-follow");
    // The watch is opened first: the workflow's creation is an event of its own.
    const watching = readStream("/api/v1/workflow-events/{namespace}", { namespace: NS }, { "listOptions.fieldSelector": "metadata.name=to-follow" }, (lines) => lines.some((l) => (JSON.parse(l) as Obj).result.object.status?.phase === "Succeeded"));
    expect((await create(gated("to-follow", gate, path.join(shared, "follow-exit")))).status).toBe(200);
    await waitFor("to-follow", running, "its pod running");
    const following = readStream("/api/v1/workflows/{namespace}/{name}/log", { namespace: NS, name: "to-follow" }, { "logOptions.container": "main", "logOptions.follow": "true" }, () => false);
    fs.writeFileSync(gate, "");
    const log = await following;
    expect(log.ended).toBe(true); // the stream ends with the workflow
    expect(log.lines.map((l) => (JSON.parse(l) as Obj).result.content)).toEqual(["started", "released", "after"]);
    const events = (await watching).lines.map((l) => (JSON.parse(l) as Obj).result);
    expect(events[0].type).toBe("ADDED");
    expect(events.slice(1).every((e: Obj) => e.type === "MODIFIED")).toBe(true);
    expect(events.every((e: Obj) => e.object.metadata.name === "to-follow")).toBe(true);
    for (const e of events) expectWorkflow(e.object);
  });

  it("the UI's Stop button stops a workflow of the Argo API as Argo's stop does (the same process runs it)", async () => {
    const marker = path.join(shared, "ui-stop-exit");
    expect((await create(gated("ui-stop", path.join(shared, "never-4"), marker))).status).toBe(200);
    await waitFor("ui-stop", running, "its pod running");
    const r = await fetch(new URL("/api/workflows/ui-stop/stop", base), { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    const wf = (await get("ui-stop")).json;
    expect(wf.status).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Stop'" });
    expect(fs.readFileSync(marker, "utf8").trim()).toBe("Failed");
  });

  it("`dflow stop` from another process stops the run by request: the server, and its other runs, live on", async () => {
    const marker = path.join(shared, "cli-stop-exit");
    const gate = path.join(shared, "gate-cli-stop");
    expect((await create(gated("cli-stop", path.join(shared, "never-5"), marker))).status).toBe(200);
    expect((await create(gated("bystander", gate, path.join(shared, "bystander-exit")))).status).toBe(200);
    await waitFor("cli-stop", running, "its pod running");
    await waitFor("bystander", running, "its pod running");
    // A signal would end the server and every run in it: the engine's lock says it takes requests.
    const stop = await execa(process.execPath, [CLI, "stop", "cli-stop"], { cwd: work, reject: false, all: true, env: { DFLOW_DEBUG_WORKDIR: work } });
    expect(stop.exitCode, stop.all).toBe(0);
    const wf = (await get("cli-stop")).json;
    expect(wf.status).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Stop'" });
    expect(fs.readFileSync(marker, "utf8").trim()).toBe("Failed");
    // The server still answers, and the other run goes on to the end.
    expect((await get("bystander")).json.status.phase).toBe("Running");
    fs.writeFileSync(gate, "");
    await waitFor("bystander", (w) => w.status?.phase === "Succeeded", "the other run to succeed");
  });

  it("a run whose engine was killed is Error with what to do (so that waiting clients end); retry continues it", async () => {
    const gate = path.join(shared, "gate-orphan");
    // JSON is YAML: what `dflow run` reads.
    const file = path.join(work, "orphan.yaml");
    fs.writeFileSync(file, JSON.stringify({ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", ...gated("orphan", gate, path.join(shared, "orphan-exit")) }));
    // `dflow run` lists its workflows in namespace argo.
    const engine = execa(process.execPath, [CLI, "run", file], { cwd: work, reject: false, all: true, env: { DFLOW_DEBUG_WORKDIR: work } });
    // Named as dflow names a run: orphan-xxxxx.
    let name = "";
    for (let i = 0; i < 3000 && !name; i++) {
      name = (await call("GET", "/api/v1/workflows/{namespace}", { namespace: "argo" })).json.items?.find((w: Obj) => w.metadata.name.startsWith("orphan-"))?.metadata.name ?? "";
      if (!name) await new Promise((res) => setTimeout(res, 100));
    }
    await waitFor(name, running, "its pod running", "argo");
    engine.kill("SIGKILL");
    await engine;
    const orphan = (await get(name, "argo")).json;
    expectWorkflow(orphan);
    expect(orphan.status.phase).toBe("Error");
    expect(orphan.status.message).toContain("the engine that ran this workflow is gone");
    expect(orphan.metadata.labels).toMatchObject({ "workflows.argoproj.io/phase": "Error", "workflows.argoproj.io/completed": "true" });
    const retry = await call("PUT", "/api/v1/workflows/{namespace}/{name}/retry", { namespace: "argo", name }, { body: { namespace: "argo", name } });
    expect(retry.status, retry.text).toBe(200);
    fs.writeFileSync(gate, "");
    expect((await waitFor(name, ended, "an end", "argo")).status.phase).toBe("Succeeded");
  });

  it("delete: a running workflow is terminated and removed; GET is then 404", async () => {
    expect((await create(gated("to-delete", path.join(shared, "never-3"), path.join(shared, "delete-exit")))).status).toBe(200);
    await waitFor("to-delete", running, "its pod running");
    const pid = Number(fs.readFileSync(path.join(work, "to-delete", "pid"), "utf8"));
    expect(pid).toBe(server.child.pid); // the engine is the server
    const r = await call("DELETE", "/api/v1/workflows/{namespace}/{name}", { namespace: NS, name: "to-delete" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({});
    expect(fs.existsSync(path.join(work, "to-delete"))).toBe(false);
    expect((await get("to-delete")).status).toBe(404);
  });

  /** first (counts its runs in `count`), then second, which fails until `gate` exists: host files the pods reach by hostPath. */
  const countedThenGated = (name: string) => {
    const gate = path.join(shared, `${name}-gate`);
    const count = path.join(shared, `${name}-count`);
    const wf = {
      metadata: { name },
      spec: {
        entrypoint: "main",
        templates: [
          { name: "main", steps: [[{ name: "first", template: "first" }], [{ name: "second", template: "second" }]] },
          withEnv(pod("first", 'echo once >> "${COUNT#x}"; echo one'), hostPath("COUNT", count)),
          withEnv(pod("second", '[ -e "${GATE#x}" ] || exit 4; echo two'), hostPath("GATE", gate)),
        ],
      },
    };
    return { gate, count, wf };
  };

  it("retry continues a failed workflow in place: its succeeded pods are kept, the failed one runs again", async () => {
    const { gate, count, wf } = countedThenGated("to-retry");
    expect((await create(wf)).status).toBe(200);
    const failed = await waitFor("to-retry", ended, "an end");
    expect(failed.status.phase).toBe("Failed");
    // Listed (a finished run's Workflow is then kept), so that the list after the retry shows it was read again.
    const listed = async () => (await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { query: { "listOptions.fieldSelector": "metadata.name=to-retry" } })).json.items[0].status;
    expect((await listed()).phase).toBe("Failed");
    const byName = (w: Obj, n: string) => Object.values(w.status.nodes as Record<string, Obj>).filter((x) => x.displayName === n);
    const first = byName(failed, "first")[0]!;
    fs.writeFileSync(gate, "");
    const r = await call("PUT", "/api/v1/workflows/{namespace}/{name}/retry", { namespace: NS, name: "to-retry" }, { body: { namespace: NS, name: "to-retry" } });
    expect(r.status, r.text).toBe(200);
    expectWorkflow(r.json);
    const done = await waitFor("to-retry", (w) => w.status?.phase === "Succeeded", "success after the retry");
    expectWorkflow(done);
    expect(byName(done, "first").map((n) => [n.id, n.phase])).toEqual([[first.id, "Succeeded"]]);
    expect(byName(done, "second").map((n) => n.phase)).toEqual(["Succeeded"]);
    expect(fs.readFileSync(count, "utf8")).toBe("once\n");
    expect(done.status.progress).toBe("2/2");
    expect(await listed()).toMatchObject({ phase: "Succeeded", progress: "2/2" });
    // A succeeded workflow is retried only with both restartSuccessful and nodeFieldSelector, as in Argo.
    const nothing = await call("PUT", "/api/v1/workflows/{namespace}/{name}/retry", { namespace: NS, name: "to-retry" }, { body: { namespace: NS, name: "to-retry", restartSuccessful: true } });
    expect([nothing.status, nothing.json.code, nothing.json.message]).toEqual([400, 3, "To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector"]);
    // With both: first runs again (a new pod), and second, after it.
    const restart = await call("PUT", "/api/v1/workflows/{namespace}/{name}/retry", { namespace: NS, name: "to-retry" }, { body: { namespace: NS, name: "to-retry", restartSuccessful: true, nodeFieldSelector: "displayName=first" } });
    expect(restart.status, restart.text).toBe(200);
    const again = await waitFor("to-retry", (w) => w.status?.phase === "Succeeded" && fs.readFileSync(count, "utf8") === "once\nonce\n", "first to run again");
    expect(byName(again, "first").map((n) => n.phase)).toEqual(["Succeeded"]);
    expect(byName(again, "first")[0]!.id).not.toBe(first.id);
    expect(byName(again, "second").map((n) => n.phase)).toEqual(["Succeeded"]);
  });

  it("memoized resubmit starts the new workflow with the failed one's succeeded pods; only a failed one", async () => {
    const { gate, count, wf } = countedThenGated("to-memo");
    expect((await create(wf)).status).toBe(200);
    expect((await waitFor("to-memo", ended, "an end")).status.phase).toBe("Failed");
    fs.writeFileSync(gate, "");
    const r = await call("PUT", "/api/v1/workflows/{namespace}/{name}/resubmit", { namespace: NS, name: "to-memo" }, { body: { namespace: NS, name: "to-memo", memoized: true } });
    expect(r.status, r.text).toBe(200);
    const done = await waitFor(r.json.metadata.name, ended, "an end");
    expect(done.status.phase).toBe("Succeeded");
    const nodes = Object.values(done.status.nodes as Record<string, Obj>);
    expect(nodes.find((n) => n.displayName === "first")?.outputs.result).toBe("one");
    expect(nodes.find((n) => n.displayName === "second")?.outputs.result).toBe("two");
    expect(fs.readFileSync(count, "utf8")).toBe("once\n");
    const again = await call("PUT", "/api/v1/workflows/{namespace}/{name}/resubmit", { namespace: NS, name: r.json.metadata.name }, { body: { namespace: NS, name: r.json.metadata.name, memoized: true } });
    expect([again.status, again.json.code, again.json.message]).toEqual([400, 3, `workflow ${r.json.metadata.name} is Succeeded: workflow must be Failed/Error to resubmit in memoized mode`]);
  });

  it("resubmit runs the workflow again as <name>-xxxxx", async () => {
    const first = await create({ metadata: { name: "exact-name" }, spec: { entrypoint: "a", templates: [pod("a", "echo {{workflow.name}}")] } });
    expect([200, 409]).toContain(first.status); // made by an earlier test when the whole file runs
    await waitFor("exact-name", ended, "an end");
    const r = await call("PUT", "/api/v1/workflows/{namespace}/{name}/resubmit", { namespace: NS, name: "exact-name" }, { body: { namespace: NS, name: "exact-name" } });
    expect(r.status).toBe(200);
    expect(r.json.metadata.name).toMatch(/^exact-name-[a-z0-9]{5}$/);
    const wf = await waitFor(r.json.metadata.name, ended, "an end");
    expect(wf.status.phase).toBe("Succeeded");
    expect(wf.metadata.labels["workflows.argoproj.io/resubmitted-from-workflow"]).toBe("exact-name");
  });
});

describe("dflow server: a workflow of workflows", () => {
  it("creates a resource template's Workflow in the parent's namespace, where Argo's clients see it, and waits for it", async () => {
    const child = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: child-\nspec:\n  entrypoint: work\n  templates:\n  - name: work\n    container: {image: alpine, command: [echo, from the child]}\n";
    const workflow = { metadata: { generateName: "parent-" }, spec: { entrypoint: "start", templates: [{ name: "start", resource: { action: "create", setOwnerReference: true, manifest: child, successCondition: "status.phase == Succeeded" }, outputs: { parameters: [{ name: "child", valueFrom: { jsonPath: "{.metadata.name}" } }] } }] } };
    const parent = await waitFor((await create(workflow)).json.metadata.name, ended, "an end");
    expect(parent.status.phase).toBe("Succeeded");
    const name = (Object.values(parent.status.nodes as Obj)[0] as Obj).outputs.parameters[0].value as string;
    const got = (await get(name)).json;
    expect(got.metadata).toMatchObject({ namespace: NS, ownerReferences: [expect.objectContaining({ kind: "Workflow", name: parent.metadata.name })] });
    expect(got.status.phase).toBe("Succeeded");
    expectWorkflow(got);
  });
});

describe("dflow server: cron workflows", () => {
  it("runs a created CronWorkflow on its schedule (its workflows labelled with it), and serves list, suspend, lint, submit --from and delete as Argo does", async () => {
    const cronWorkflow = { metadata: { name: "every-second" }, spec: { schedules: ["@every 1s"], concurrencyPolicy: "Forbid", workflowSpec: { entrypoint: "main", templates: [pod("main", "echo {{workflow.scheduledTime}}")] } } };
    const C = "/api/v1/cron-workflows/{namespace}";
    const made = await call("POST", C, { namespace: NS }, { body: { namespace: NS, cronWorkflow } });
    expect(made.status).toBe(200);
    expect(validateCron(made.json) ? [] : validateCron.errors).toEqual([]);
    // The server starts its runs by itself.
    const child = await poll("a run of the CronWorkflow that succeeded", async () => {
      const r = await call("GET", "/api/v1/workflows/{namespace}", { namespace: NS }, { query: { "listOptions.labelSelector": "workflows.argoproj.io/cron-workflow=every-second" } });
      return (r.json.items as Obj[] | null)?.find((w) => w.status.phase === "Succeeded");
    });
    expect(child.metadata.name).toMatch(/^every-second-\d{10}$/);
    expect(Object.values(child.status.nodes as Obj).map((n: Obj) => n.outputs?.result)).toEqual([child.metadata.annotations["workflows.argoproj.io/scheduled-time"]]);
    const counted = await poll("the run counted", async () => {
      const r = await call("GET", `${C}/{name}`, { namespace: NS, name: "every-second" });
      return Number(r.json.status?.succeeded) >= 1 ? r.json : undefined;
    });
    expect(counted.status).toMatchObject({ phase: "Active", lastScheduledTime: expect.stringMatching(/Z$/) });
    expect(validateCron(counted) ? [] : validateCron.errors).toEqual([]);
    expect(((await call("GET", C, { namespace: NS })).json.items as Obj[]).map((c) => c.metadata.name)).toEqual(["every-second"]);
    const suspended = await call("PUT", `${C}/{name}/suspend`, { namespace: NS, name: "every-second" }, { body: { namespace: NS, name: "every-second" } });
    expect(suspended.json.spec.suspend).toBe(true);
    const lint = await call("POST", `${C}/lint`, { namespace: NS }, { body: { namespace: NS, cronWorkflow: { ...cronWorkflow, spec: { ...cronWorkflow.spec, schedules: ["every day"] } } } });
    expect([lint.status, lint.json.code]).toEqual([400, 3]);
    expect(lint.json.message).toMatch(/^invalid spec: spec\.schedules\[0\] "every day": /);
    const now = await call("POST", "/api/v1/workflows/{namespace}/submit", { namespace: NS }, { body: { namespace: NS, resourceKind: "cronwf", resourceName: "every-second" } });
    expect(now.json.metadata).toMatchObject({ name: expect.stringMatching(/^every-second-[0-9a-z]{5}$/), labels: { "workflows.argoproj.io/cron-workflow": "every-second" } });
    expect((await call("DELETE", `${C}/{name}`, { namespace: NS, name: "every-second" })).status).toBe(200);
    const gone = await call("GET", `${C}/{name}`, { namespace: NS, name: "every-second" });
    expect([gone.status, gone.json.code, gone.json.message]).toEqual([404, 5, 'cronworkflows.argoproj.io "every-second" not found']);
  });
});

describe("dflow server: sync limits (argo sync)", () => {
  const S = "/api/v1/sync/{namespace}";
  const K = "/api/v1/sync/{namespace}/{key}";
  const locked = (semaphore: Obj) => ({ metadata: { generateName: "locked-" }, spec: { entrypoint: "main", templates: [pod("main", "echo held", { synchronization: { semaphores: [semaphore] } })] } });

  it("keeps a database semaphore's row of the limit table, which the namespace's workflows take their limit from", async () => {
    const made = await call("POST", S, { namespace: NS }, { body: { namespace: NS, key: "db-work", limit: 1, type: "DATABASE" } });
    expect([made.status, made.json]).toEqual([200, { key: "db-work", namespace: NS, limit: 1, type: "DATABASE" }]);
    const again = await call("POST", S, { namespace: NS }, { body: { key: "db-work", limit: 2, type: "DATABASE" } });
    expect([again.status, again.json]).toEqual([409, { code: 6, message: `Database sync limit already exists in namespace "${NS}".` }]);
    const zero = await call("POST", S, { namespace: NS }, { body: { key: "x", limit: 0, type: "DATABASE" } });
    expect([zero.status, zero.json]).toEqual([400, { code: 3, message: "limit must be greater than zero" }]);
    const wf = await waitFor((await create(locked({ database: { key: "db-work" } }))).json.metadata.name, ended, "an end");
    expect(wf.status.phase).toBe("Succeeded");
    // Without its row, a workflow is refused at once, saying how to give it.
    const refused = await create(locked({ database: { key: "db-none" } }));
    expect([refused.status, refused.json.code]).toEqual([400, 3]);
    expect(refused.json.message).toContain(`none is given for database semaphore ${NS}/db-none (Argo's sync_limit table): give it with`);
    expect(refused.json.message).toContain(`argo sync create db-none --type database --limit N`);
    const updated = await call("PUT", K, { namespace: NS, key: "db-work" }, { body: { key: "db-work", limit: 3, type: "DATABASE" } });
    expect(updated.json).toEqual({ key: "db-work", namespace: NS, limit: 3, type: "DATABASE" });
    expect((await call("GET", K, { namespace: NS, key: "db-work" }, { query: { type: "DATABASE" } })).json.limit).toBe(3);
    expect((await call("DELETE", K, { namespace: NS, key: "db-work" }, { query: { type: "DATABASE" } })).json).toEqual({});
    const gone = await call("GET", K, { namespace: NS, key: "db-work" }, { query: { type: "DATABASE" } });
    expect([gone.status, gone.json]).toEqual([404, { code: 5, message: `Database sync limit not found in namespace "${NS}".` }]);
  });

  it("keeps a ConfigMap semaphore's limit as a key of the namespace's ConfigMap (the type by default)", async () => {
    const made = await call("POST", S, { namespace: NS }, { body: { key: "cm-work", cmName: "sync-limits", limit: 2 } });
    expect(made.json).toEqual({ cmName: "sync-limits", namespace: NS, key: "cm-work", limit: 2, type: "CONFIGMAP" });
    const wf = await waitFor((await create(locked({ configMapKeyRef: { name: "sync-limits", key: "cm-work" } }))).json.metadata.name, ended, "an end");
    expect(wf.status.phase).toBe("Succeeded");
    const again = await call("POST", S, { namespace: NS }, { body: { key: "cm-work", cmName: "sync-limits", limit: 2, type: "CONFIGMAP" } });
    expect([again.status, again.json.message]).toEqual([409, "sync limit cannot be created as it already exists"]);
    const unknown = await call("PUT", K, { namespace: NS, key: "cm-other" }, { body: { cmName: "sync-limits", limit: 4 } });
    expect([unknown.status, unknown.json.message]).toEqual([404, `key cm-other not found in configmap ${NS}/sync-limits - please create it first`]);
    expect((await call("PUT", K, { namespace: NS, key: "cm-work" }, { body: { cmName: "sync-limits", limit: 4 } })).json.limit).toBe(4);
    expect((await call("GET", K, { namespace: NS, key: "cm-work" }, { query: { cmName: "sync-limits" } })).json).toEqual({ cmName: "sync-limits", namespace: NS, key: "cm-work", limit: 4, type: "CONFIGMAP" });
    expect((await call("DELETE", K, { namespace: NS, key: "cm-work" }, { query: { cmName: "sync-limits" } })).status).toBe(200);
    const gone = await call("GET", K, { namespace: NS, key: "cm-work" }, { query: { cmName: "sync-limits" } });
    expect([gone.status, gone.json.message]).toEqual([404, `key cm-work not found in configmap ${NS}/sync-limits`]);
  });
});

describe("dflow server: what Argo serves beside the workflows", () => {
  it("version, info and userinfo, in swagger.json's shapes", async () => {
    const v = await call("GET", "/api/v1/version", {});
    expect(v.status).toBe(200);
    expect(Object.keys(v.json).sort()).toEqual(["buildDate", "compiler", "gitCommit", "gitTag", "gitTreeState", "goVersion", "platform", "version"]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(v.json.version).toBe(`v${pkg.version}+dflow-ts`);
    expect((await call("GET", "/api/v1/info", {})).json).toEqual({ links: [], columns: [] });
    expect((await call("GET", "/api/v1/userinfo", {})).status).toBe(200);
    expect((await call("GET", "/api/v1/version", {}, { auth: null })).status).toBe(401);
  });

  it("sends Argo UI's link to a workflow (dflow's client prints it) to this UI's page of it, the token kept", async () => {
    const res = await fetch(new URL("/workflows/dflow-py/some-wf-abcde?token=t0k", base), { redirect: "manual" });
    expect([res.status, res.headers.get("location")]).toEqual([302, "/?token=t0k#/workflows/some-wf-abcde"]);
  });

  it("downloads a node's artifacts as Argo Server's /artifacts/ paths do: a file as it is, a directory as .tgz, by name or uid; the token is required", async () => {
    const workflow = {
      metadata: { generateName: "arts-" },
      spec: {
        entrypoint: "main",
        templates: [
          { name: "main", steps: [[{ name: "make", template: "make" }], [{ name: "take", template: "take", arguments: { artifacts: [{ name: "in", from: "{{steps.make.outputs.artifacts.file}}" }] } }]] },
          pod("make", "echo one > /tmp/one.txt; mkdir -p /tmp/d/sub; echo two > /tmp/d/sub/two.txt", { outputs: { artifacts: [{ name: "file", path: "/tmp/one.txt" }, { name: "dir", path: "/tmp/d" }] } }),
          pod("take", "cat /tmp/in.txt", { inputs: { artifacts: [{ name: "in", path: "/tmp/in.txt" }] } }),
        ],
      },
    };
    const name = (await create(workflow)).json.metadata.name as string;
    const wf = await waitFor(name, ended, "an end");
    expect(wf.status.phase).toBe("Succeeded");
    const make = nodeNamed(wf, "make")!;
    const take = nodeNamed(wf, "take")!;
    const fetchArt = (p: string, auth: string | null = token) => fetch(new URL(p, base), { headers: auth === null ? {} : { Authorization: `Bearer ${auth}` } });

    const file = await fetchArt(`artifacts/${NS}/${name}/${make.id}/file`);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("one\n");
    // Named as the pod's file was (the default key ends with it).
    expect(file.headers.get("content-disposition")).toBe('filename="one.txt"');
    const byUid = await fetchArt(`artifacts-by-uid/${wf.metadata.uid}/${make.id}/file`);
    expect(await byUid.text()).toBe("one\n");
    const input = await fetchArt(`input-artifacts/${NS}/${name}/${take.id}/in`);
    expect(await input.text()).toBe("one\n");

    const dir = await fetchArt(`artifacts/${NS}/${name}/${make.id}/dir`);
    expect(dir.status).toBe(200);
    expect(dir.headers.get("content-disposition")).toBe('filename="d.tgz"');
    const tgz = path.join(work, "dir.tgz");
    fs.writeFileSync(tgz, Buffer.from(await dir.arrayBuffer()));
    const out = fs.mkdtempSync(path.join(work, "untar-"));
    await execa("tar", ["xzf", tgz, "-C", out]);
    expect(fs.readFileSync(path.join(out, "sub", "two.txt"), "utf8")).toBe("two\n");

    // The UI's way: the token in the `authorization` cookie.
    const cookie = await fetch(new URL(`artifacts/${NS}/${name}/${make.id}/file`, base), { headers: { Cookie: `authorization=${encodeURIComponent(`Bearer ${token}`)}` } });
    expect(cookie.status).toBe(200);
    expect((await fetchArt(`artifacts/${NS}/${name}/${make.id}/file`, null)).status).toBe(401);
    expect((await fetchArt(`artifacts/${NS}/${name}/${make.id}/file`, "wrong")).status).toBe(401);
    const missing = await fetchArt(`artifacts/${NS}/${name}/${make.id}/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain(`node ${make.id} has no output artifact nothing`);
    expect((await fetchArt(`artifacts/${NS}/nobody/${make.id}/file`)).status).toBe(404);
    expect((await fetchArt(`artifacts/${NS}/${name}/${make.id}`)).status).toBe(400);

    // Argo's UI's links (/artifact-files/): a file as it is, typed by its name; a directory listed.
    const files = `artifact-files/${NS}/workflows/${name}`;
    const get = (p: string) => fetch(new URL(p, base), { headers: { Authorization: `Bearer ${token}` }, redirect: "manual" });
    const one = await get(`${files}/${make.id}/outputs/file`);
    expect([one.status, await one.text(), one.headers.get("content-type")]).toEqual([200, "one\n", "text/plain; charset=utf-8"]);
    expect(one.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await (await get(`${files}/${take.id}/inputs/in`)).text()).toBe("one\n");
    const toDir = await get(`${files}/${make.id}/outputs/dir`);
    expect([toDir.status, new URL(toDir.headers.get("location")!, base).pathname]).toEqual([307, `/${files}/${make.id}/outputs/dir/`]);
    const listed = await get(`${files}/${make.id}/outputs/dir/`);
    expect(await listed.text()).toContain('<a href="./sub/">sub/</a>');
    expect(await (await get(`${files}/${make.id}/outputs/dir/sub/two.txt`)).text()).toBe("two\n");
    // Never a path out of the artifact; no archive here; the token is needed.
    expect((await get(`${files}/${make.id}/outputs/dir/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fhostname`)).status).toBe(404);
    expect((await get(`artifact-files/${NS}/archived-workflows/${wf.metadata.uid}/${make.id}/outputs/file`)).status).toBe(404);
    expect((await fetch(new URL(`${files}/${make.id}/outputs/file`, base))).status).toBe(401);
  });
});
