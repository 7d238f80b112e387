// `dflow retry` and `dflow resubmit` of Argo runs (`dflow run wf.yaml`):
// the workflow as it ran is continued in its directory, its succeeded nodes
// kept with their outputs (artifacts too), the others run again, and the
// exit handler again; after the engine was killed, what it left running is
// killed first. The real command, on a manifest whose pods record on the
// host (a folder DFLOW_ARGO_HOST_DIRS lets them write) what ran.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../support/ui.js";
import { until } from "../support/wait.js";
import { WorkflowStore } from "../../engine/api/workflows.js";

let work = "";
let host = "";
beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-argo-retry-")));
  // A folder of this machine that the pods write for real (each has a root of its own otherwise).
  host = fs.mkdtempSync("/var/tmp/dflow-argo-retry-");
  process.env.DFLOW_ARGO_HOST_DIRS = host;
});
afterAll(() => {
  for (const d of [work, host]) fs.rmSync(d, { recursive: true, force: true });
  delete process.env.DFLOW_ARGO_HOST_DIRS;
});

const dflow = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: work, env: { DFLOW_DEBUG_WORKDIR: work }, reject: false, all: true });

/**
 * a -> b -> c, and an exit handler. a makes a parameter and an artifact that
 * c reads; b fails until `<host>/<tag>.ok` exists (or, with `hang`, sleeps
 * until killed). Every pod appends what it did to `<host>/<tag>.ran`.
 */
function manifest(tag: string, hang = false): string {
  const ran = path.join(host, `${tag}.ran`);
  const ok = path.join(host, `${tag}.ok`);
  return `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: ${tag}-
spec:
  entrypoint: main
  onExit: bye
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: make}
      - name: b
        template: flaky
        dependencies: [a]
        arguments: {parameters: [{name: "n", value: "{{tasks.a.outputs.parameters.n}}"}]}
      - name: c
        template: use
        dependencies: [b]
        arguments:
          parameters: [{name: from-b, value: "{{tasks.b.outputs.result}}"}]
          artifacts: [{name: made, from: "{{tasks.a.outputs.artifacts.made}}"}]
  - name: make
    outputs:
      parameters: [{name: "n", valueFrom: {path: /tmp/n}}]
      artifacts: [{name: made, path: /tmp/made.txt}]
    script:
      image: alpine
      command: [sh]
      source: |
        echo a >> ${ran}
        echo 41 > /tmp/n
        echo "made by a" > /tmp/made.txt
  - name: flaky
    inputs: {parameters: [{name: "n"}]}
    script:
      image: alpine
      command: [sh]
      source: |
        echo "b {{inputs.parameters.n}}" >> ${ran}
        ${hang ? `[ -e ${ok} ] || sleep 1000` : `[ -e ${ok} ] || exit 3`}
        echo $(( {{inputs.parameters.n}} + 1 ))
  - name: use
    inputs:
      parameters: [{name: from-b}]
      artifacts: [{name: made, path: /tmp/in.txt}]
    script:
      image: alpine
      command: [sh]
      source: echo "c {{inputs.parameters.from-b}} $(cat /tmp/in.txt)" >> ${ran}
  - name: bye
    script:
      image: alpine
      command: [sh]
      source: echo "bye {{workflow.status}}" >> ${ran}
`;
}

function write(tag: string, hang = false): string {
  const file = path.join(work, `${tag}.yaml`);
  fs.writeFileSync(file, manifest(tag, hang));
  return file;
}

const ran = (tag: string) => fs.readFileSync(path.join(host, `${tag}.ran`), "utf8");
const idOf = (tag: string) => fs.readdirSync(work).find((d) => d.startsWith(`${tag}-`) && !d.endsWith(".yaml"))!;

/** The workflow's Argo nodes by display name, from their node.json files. */
function nodes(id: string): Record<string, { id: string; phase: string }> {
  const out: Record<string, { id: string; phase: string }> = {};
  for (const d of fs.readdirSync(path.join(work, id))) {
    const f = path.join(work, id, d, "node.json");
    if (!fs.existsSync(f)) continue;
    const n = JSON.parse(fs.readFileSync(f, "utf8")) as { id: string; displayName: string; phase: string };
    out[n.displayName.replace(`${id}.`, "")] = n;
  }
  return out;
}

/** Processes whose working directory is inside `dir`. */
function processesIn(dir: string): number[] {
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readlinkSync(`/proc/${p}/cwd`).startsWith(dir);
    } catch {
      return false;
    }
  }).map(Number);
}

describe("dflow retry of an Argo run", () => {
  it("keeps the succeeded nodes and their outputs, runs the failed one and what follows, and the exit handler again", async () => {
    const first = await dflow(["run", write("failing")]);
    expect(first.exitCode, first.all).toBe(1);
    const id = idOf("failing");
    expect(ran("failing")).toBe("a\nb 41\nbye Failed\n");
    const before = nodes(id);
    expect(before.b.phase).toBe("Failed");
    expect(before.c.phase).toBe("Omitted");

    fs.writeFileSync(path.join(host, "failing.ok"), "");
    const retry = await dflow(["retry", id]);
    expect(retry.exitCode, retry.all).toBe(0);
    expect(retry.all).toContain(`dflow: workflow ${id} Succeeded`);
    // a did not run again; b got a's parameter, c b's result and a's artifact, from the earlier run.
    expect(ran("failing")).toBe("a\nb 41\nbye Failed\nb 41\nc 42 made by a\nbye Succeeded\n");
    const after = nodes(id);
    expect(after.a.id).toBe(before.a.id);
    expect(Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n.phase]))).toEqual({ [id]: "Succeeded", a: "Succeeded", b: "Succeeded", c: "Succeeded", onExit: "Succeeded" });
    // The failed attempt's directories are gone, not shown beside the nodes that replace them.
    expect(fs.existsSync(path.join(work, id, before.b.id))).toBe(false);
    expect(fs.existsSync(path.join(work, id, before.c.id))).toBe(false);
    const get = await dflow(["get", id, "--json"]);
    expect(JSON.parse(get.stdout)).toMatchObject({ status: "Succeeded" });

    // Nothing left to retry: one line, no stack.
    const again = await dflow(["retry", id]);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr.trim()).toBe(`dflow: workflow ${id} Succeeded: there is nothing to retry (to run some of its nodes again, select them: argo retry --restart-successful --node-field-selector, dflow retry --node-field-selector)`);
  });

  it("runs selected succeeded nodes again with what ran after them (argo retry --restart-successful --node-field-selector); the others are kept", async () => {
    fs.writeFileSync(path.join(host, "restart.ok"), "");
    expect((await dflow(["run", write("restart")])).exitCode).toBe(0);
    const id = idOf("restart");
    const before = nodes(id);
    const restart = await dflow(["retry", id, "--restart-successful", "--node-field-selector", "displayName=b"]);
    expect(restart.exitCode, restart.all).toBe(0);
    // b again, and c, which depends on it; a kept (its node, its outputs for b); the exit handler again.
    expect(ran("restart")).toBe("a\nb 41\nc 42 made by a\nbye Succeeded\nb 41\nc 42 made by a\nbye Succeeded\n");
    const after = nodes(id);
    expect(after.a).toEqual(before.a);
    expect(Object.values(after).map((n) => n.phase)).toEqual(Array(Object.keys(before).length).fill("Succeeded"));

    // In Steps: the later step groups run again, a sibling in the same group does not; nor the groups before.
    const steps = path.join(work, "steps.yaml");
    const log = path.join(host, "steps.ran");
    fs.writeFileSync(steps, `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: steps-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: say, arguments: {parameters: [{name: w, value: first}]}}
    - - {name: left, template: say, arguments: {parameters: [{name: w, value: left}]}}
      - {name: right, template: say, arguments: {parameters: [{name: w, value: right}]}}
    - - {name: last, template: say, arguments: {parameters: [{name: w, value: last}]}}
  - name: say
    inputs: {parameters: [{name: w}]}
    container: {image: alpine, command: [sh, -c, "echo {{inputs.parameters.w}} >> ${log}"]}
`);
    expect((await dflow(["run", steps])).exitCode).toBe(0);
    const sid = idOf("steps");
    const again = await dflow(["retry", sid, "--restart-successful", "--node-field-selector", "displayName=left"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(fs.readFileSync(log, "utf8").split("\n").slice(4).filter(Boolean)).toEqual(["left", "last"]);

    // Said, not ignored: a selector that picks nothing, one that does not parse, one flag without the other.
    const none = await dflow(["retry", sid, "--restart-successful", "--node-field-selector", "displayName=nope"]);
    expect([none.exitCode, none.stderr.trim()]).toEqual([2, `dflow: workflow ${sid}: no succeeded node matches displayName=nope, so nothing would run again`]);
    const bad = await dflow(["retry", sid, "--restart-successful", "--node-field-selector", "left"]);
    expect([bad.exitCode, bad.stderr.trim()]).toEqual([2, 'dflow: nodeFieldSelector: cannot parse "left" (expected key=value or key!=value)']);
    const half = await dflow(["retry", sid, "--node-field-selector", "displayName=left"]);
    expect([half.exitCode, half.stderr.trim()]).toEqual([2, "dflow: --restart-successful and --node-field-selector go together: the first runs succeeded nodes again, the second picks them"]);
  });

  it("after the engine was killed: kills what it left running, then continues", async () => {
    const engine = dflow(["run", write("killed", true)]);
    const id = await until("the workflow's directory", () => idOf("killed"));
    // b is running (its pid recorded) when the engine dies.
    const b = await until("b running", () => Object.values(nodes(id)).find((n) => n.phase === "Running" && fs.existsSync(path.join(work, id, n.id, "pid")) && n.id.includes("-b-")));
    engine.kill("SIGKILL");
    await engine;
    expect(processesIn(path.join(work, id, b.id)).length).toBeGreaterThan(0);

    fs.writeFileSync(path.join(host, "killed.ok"), "");
    const retry = await dflow(["retry", id]);
    expect(retry.exitCode, retry.all).toBe(0);
    expect(processesIn(path.join(work, id, b.id))).toEqual([]);
    expect(ran("killed")).toBe("a\nb 41\nb 41\nc 42 made by a\nbye Succeeded\n");
  });
});

describe("the UI's retry of an Argo run (WorkflowStore.rerun, as `dflow ui` calls it), and --detach", () => {
  it("starts `dflow retry` in a process of its own and answers once the workflow runs again", async () => {
    const first = await dflow(["run", write("from-ui")]);
    expect(first.exitCode, first.all).toBe(1);
    const id = idOf("from-ui");
    fs.writeFileSync(path.join(host, "from-ui.ok"), "");
    const r = await new WorkflowStore(work).rerun(id, "retry");
    expect(r.id).toBe(id);
    expect(r.message).toContain(`Workflow is running locally (ID: ${id})`);
    await until("the retried workflow to end", () => fs.readFileSync(path.join(work, id, "status"), "utf8") === "Succeeded" && ran("from-ui").includes("bye Succeeded"));
    expect(ran("from-ui")).toBe("a\nb 41\nbye Failed\nb 41\nc 42 made by a\nbye Succeeded\n");
  });

  it("dflow retry --detach does the same from the command line", async () => {
    const first = await dflow(["run", write("detached")]);
    expect(first.exitCode, first.all).toBe(1);
    const id = idOf("detached");
    fs.writeFileSync(path.join(host, "detached.ok"), "");
    const r = await dflow(["retry", id, "--detach"]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(`Workflow is running locally (ID: ${id})`);
    expect(r.stdout).toContain(`watch ${id}`);
    await until("the retried workflow to end", () => fs.readFileSync(path.join(work, id, "status"), "utf8") === "Succeeded" && ran("detached").includes("bye Succeeded"));
    expect(ran("detached")).toBe("a\nb 41\nbye Failed\nb 41\nc 42 made by a\nbye Succeeded\n");
  });
});

describe("dflow resubmit of an Argo run", () => {
  it("runs the workflow as it ran as a new workflow, from the start", async () => {
    const first = await dflow(["run", write("again")]);
    expect(first.exitCode, first.all).toBe(1);
    const id = idOf("again");
    // The manifest file is not read again: the run kept the workflow as it ran.
    fs.writeFileSync(path.join(work, "again.yaml"), "not: a workflow\n");
    fs.writeFileSync(path.join(host, "again.ok"), "");
    const r = await dflow(["resubmit", id]);
    expect(r.exitCode, r.all).toBe(0);
    const other = /ID: (again-[a-z0-9]+)/.exec(r.all)![1];
    expect(other).not.toBe(id);
    expect(ran("again")).toBe("a\nb 41\nbye Failed\na\nb 41\nc 42 made by a\nbye Succeeded\n");
    // The first run is as it was.
    expect(nodes(id).b.phase).toBe("Failed");
  });

  it("--memoized starts the new workflow with the failed run's succeeded nodes, renamed after it (argo resubmit --memoized)", async () => {
    expect((await dflow(["run", write("resub")])).exitCode).toBe(1);
    const id = idOf("resub");
    fs.writeFileSync(path.join(host, "resub.ok"), "");
    const r = await dflow(["resubmit", id, "--memoized"]);
    expect(r.exitCode, r.all).toBe(0);
    const other = /ID: (resub-[a-z0-9]+)/.exec(r.all)![1]!;
    // a did not run again: its node came over, named after the new workflow, with its outputs (b got 41, c a's artifact).
    expect(ran("resub")).toBe("a\nb 41\nbye Failed\nb 41\nc 42 made by a\nbye Succeeded\n");
    const after = nodes(other);
    expect(Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n.phase]))).toEqual({ [other]: "Succeeded", a: "Succeeded", b: "Succeeded", c: "Succeeded", onExit: "Succeeded" });
    expect(after.a.id.startsWith(`${other}-`)).toBe(true);
    expect(nodes(id).b.phase).toBe("Failed");
    // As Argo: only a run that failed.
    const refused = await dflow(["resubmit", other, "--memoized"]);
    expect([refused.exitCode, refused.stderr.trim()]).toEqual([2, `dflow: workflow ${other} is Succeeded: workflow must be Failed/Error to resubmit in memoized mode`]);
  });
});

describe("memoization across runs", () => {
  it("a hit restores the node's artifacts as well as its parameters; an entry whose artifacts are gone is a miss", async () => {
    const ran = path.join(host, "memo.ran");
    const file = path.join(work, "memo.yaml");
    fs.writeFileSync(
      file,
      `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: memo-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: make, template: make}
    - - name: use
        template: use
        arguments:
          parameters: [{name: "n", value: "{{steps.make.outputs.parameters.n}}"}]
          artifacts: [{name: made, from: "{{steps.make.outputs.artifacts.made}}"}]
  - name: make
    memoize: {key: "memo-test-${path.basename(host)}", cache: {configMap: {name: memo-test}}}
    outputs:
      parameters: [{name: "n", valueFrom: {path: /tmp/n}}]
      artifacts: [{name: made, path: /tmp/made.txt}]
    script:
      image: alpine
      command: [sh]
      source: |
        echo make >> ${ran}
        echo 7 > /tmp/n
        echo "made once" > /tmp/made.txt
  - name: use
    inputs:
      parameters: [{name: "n"}]
      artifacts: [{name: made, path: /tmp/in.txt}]
    script:
      image: alpine
      command: [sh]
      source: echo "use {{inputs.parameters.n}} $(cat /tmp/in.txt)" >> ${ran}
`,
    );
    for (let i = 0; i < 2; i++) {
      const r = await dflow(["run", file]);
      expect(r.exitCode, r.all).toBe(0);
    }
    expect(fs.readFileSync(ran, "utf8")).toBe("make\nuse 7 made once\nuse 7 made once\n");
    // The first run's artifacts deleted (its workflow deleted, say): the next run makes them again.
    const first = fs.readdirSync(work).filter((d) => d.startsWith("memo-") && !d.endsWith(".yaml")).sort((a, b) => fs.statSync(path.join(work, a)).mtimeMs - fs.statSync(path.join(work, b)).mtimeMs)[0]!;
    fs.rmSync(path.join(work, ".argo-artifacts", first), { recursive: true, force: true });
    const third = await dflow(["run", file]);
    expect(third.exitCode, third.all).toBe(0);
    expect(fs.readFileSync(ran, "utf8")).toBe("make\nuse 7 made once\nuse 7 made once\nmake\nuse 7 made once\n");
  });
});
