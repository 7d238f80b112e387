// An Argo run (`dflow run wf.yaml`) inspected with the documented tools, as
// any workflow of the work directory: `dflow download <id> <step> <artifact>`
// copies a node's artifact out of the local artifact repository (a directory
// or a file, unarchived as the pod wrote it), `new Workflow({ id })
// .query_step()` gives the node's artifacts, and query_global_outputs() its
// globalName outputs; the same as for the same workflow run from a script.
// The CLI runs from dist: needs a fresh build.
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { download_artifact } from "../../engine/artifacts/upload.js";
import { WorkflowStore } from "../../engine/api/workflows.js";
import { artifactRepository, readArgoStatus } from "../../engine/argo/index.js";
import { OutputArtifact, OutputParameter, Outputs } from "../../src/io.js";
import { Step } from "../../src/step.js";
import { ShellOPTemplate } from "../../src/templates.js";
import { Workflow } from "../../src/workflow.js";
import { manifest } from "../support/argo.js";
import { useArgoWorkdir } from "../support/workdir.js";

const cli = path.resolve(import.meta.dirname, "..", "..", "dist", "src", "cli.js");

const MAKE = "mkdir -p /tmp/res/sub && echo one > /tmp/res/a.txt && echo two > /tmp/res/sub/b.txt && echo hello > /tmp/greeting.txt && printf 2 > /tmp/count";

const WF = manifest("inspect-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: make
        template: make
    - - name: use
        template: use
        arguments: {artifacts: [{name: got, from: "{{steps.make.outputs.artifacts.res}}"}]}
  - name: make
    container: {image: busybox, command: [sh, -c], args: ["${MAKE}"]}
    outputs:
      parameters: [{name: count, valueFrom: {path: /tmp/count}, globalName: nfiles}]
      artifacts:
      - {name: res, path: /tmp/res, globalName: result_dir}
      - {name: greeting, path: /tmp/greeting.txt, globalName: hello_file}
  - name: use
    inputs: {artifacts: [{name: got, path: /tmp/got}]}
    container: {image: busybox, command: [sh, -c], args: ["cat /tmp/got/a.txt"]}
`;

const work = useArgoWorkdir("argo-inspect-");
const dflow = (...args: string[]) => execa(process.execPath, [cli, ...args], { cwd: work.dir, reject: false, all: true, env: { DFLOW_DEBUG_WORKDIR: "." } });
const at = (...p: string[]) => path.join(work.dir, ...p);

/** Every file under `dir` (relative, sorted) with its content. */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => fs.statSync(path.join(dir, f)).isFile())
      .sort()
      .map((f) => [f.split(path.sep).join("/"), fs.readFileSync(path.join(dir, f), "utf8")]),
  );
}

let id: string;
/** The keys of make's output artifacts, as its node records them. */
let keys: Record<string, string>;

beforeAll(async () => {
  fs.writeFileSync(at("wf.yaml"), WF);
  const r = await dflow("run", "wf.yaml");
  expect(r.exitCode, r.all).toBe(0);
  id = /ID: (inspect-[0-9a-z]{5})/.exec(r.all ?? "")![1]!;
  const make = Object.values(readArgoStatus(at(id))!.nodes).find((n) => n.displayName === "make")!;
  keys = Object.fromEntries((make.outputs?.artifacts ?? []).map((a) => [a.name, a.key!]));
  expect(Object.keys(keys).sort()).toEqual(["greeting", "res"]);
});

describe("dflow download of an Argo run's artifacts", () => {
  it("copies a directory artifact's files out of the artifact repository", async () => {
    const r = await dflow("download", id, "make", "res", "res-out", "--json");
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ step: "make", artifact: "res", dir: at("res-out") });
    expect(tree(at("res-out"))).toEqual({ "a.txt": "one\n", "sub/b.txt": "two\n" });
  });

  it("gives a single-file artifact the name of the file the pod wrote", async () => {
    const r = await dflow("download", id, "make", "greeting", "greeting-out", "--json");
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout).paths).toEqual(["greeting-out/greeting.txt"]);
    expect(tree(at("greeting-out"))).toEqual({ "greeting.txt": "hello\n" });
    const human = await dflow("download", id, "make", "greeting", "human");
    expect(human.exitCode, human.all).toBe(0);
    expect(human.stdout).toContain(`Downloaded greeting of step make (`);
    expect(human.stdout).toContain("human/greeting.txt");
  });

  it("takes an input artifact of a step that has no output of that name", async () => {
    const r = await dflow("download", id, "use", "got", "got-out");
    expect(r.exitCode, r.all).toBe(0);
    expect(tree(at("got-out"))).toEqual({ "a.txt": "one\n", "sub/b.txt": "two\n" });
  });

  it("names the artifacts a step has when asked for one it has not", async () => {
    const r = await dflow("download", id, "make", "nope");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`has no artifact "nope" (it has: output res, output greeting)`);
    expect(r.stderr).not.toContain("it has none");
  });
});

describe("a Workflow loaded by the id of an Argo run", () => {
  it("query_step gives a node's artifacts at their files in the local artifact repository, downloadable", async () => {
    const wf = new Workflow({ id });
    const [make] = wf.query_step({ name: "make" });
    const repo = artifactRepository(work.dir);
    expect(make!.outputs.artifacts).toEqual({
      res: { name: "res", local_path: path.join(repo, keys.res!) },
      greeting: { name: "greeting", local_path: path.join(repo, keys.greeting!) },
    });
    expect(make!.outputs.parameters.count?.value).toBe("2");
    expect(await download_artifact(make!.outputs.artifacts.res!, { path: at("api-res") })).toBeDefined();
    expect(tree(at("api-res"))).toEqual({ "a.txt": "one\n", "sub/b.txt": "two\n" });
    expect(await download_artifact(make!.outputs.artifacts.greeting!, { path: at("api-greeting") })).toEqual([`${at("api-greeting")}/greeting.txt`]);
    // The consumer's input is the same key; a Steps node passes its children's on too.
    const [use] = wf.query_step({ name: "use" });
    expect(use!.inputs.artifacts.got).toEqual({ name: "got", local_path: path.join(repo, keys.res!) });
    expect(use!.outputs.artifacts).toEqual({});
    expect(wf.query_step({ key: "none-such" })).toEqual([]);
  });

  it("the UI's step detail names the artifacts by a path the UI serves", () => {
    const store = new WorkflowStore(work.dir);
    const make = Object.values(readArgoStatus(at(id))!.nodes).find((n) => n.displayName === "make")!;
    const detail = store.step(id, make.id);
    const res = store.file(id, detail.outputs.artifacts.res!.path);
    expect(res.kind === "dir" ? res.entries.map((e) => e.name) : res).toEqual(["sub", "a.txt"]);
    expect(() => store.file(id, "../../etc/passwd")).toThrow(/outside workflow/);
  });

  it("query_global_outputs gives the globalName parameters and artifacts", () => {
    const repo = artifactRepository(work.dir);
    expect(new Workflow({ id }).query_global_outputs()).toEqual({
      parameters: { nfiles: { name: "nfiles", value: "2" } },
      artifacts: {
        result_dir: { name: "result_dir", local_path: path.join(repo, keys.res!) },
        hello_file: { name: "hello_file", local_path: path.join(repo, keys.greeting!) },
      },
    });
    // As the run's status records them.
    expect(readArgoStatus(at(id))!.outputs?.parameters).toEqual([{ name: "nfiles", value: "2" }]);
  });

  it("gives what the same workflow run from a script gives", async () => {
    const make = new ShellOPTemplate({
      name: "make",
      script: MAKE,
      outputs: new Outputs({
        parameters: { count: new OutputParameter({ value_from_path: "/tmp/count", global_name: "nfiles" }) },
        artifacts: { res: new OutputArtifact({ path: "/tmp/res", global_name: "result_dir" }), greeting: new OutputArtifact({ path: "/tmp/greeting.txt", global_name: "hello_file" }) },
      }),
    });
    const direct = new Workflow({ name: "inspect-direct" });
    direct.add(new Step({ name: "make", template: make }));
    expect((await direct.submit()).status).toBe("Succeeded");
    const argo = new Workflow({ id });
    const [a] = argo.query_step({ name: "make" });
    const [d] = new Workflow({ id: direct.id }).query_step({ name: "make" });
    expect(Object.keys(a!.outputs.artifacts).sort()).toEqual(Object.keys(d!.outputs.artifacts).sort());
    const g = { argo: argo.query_global_outputs()!, direct: direct.query_global_outputs()! };
    expect(g.argo.parameters).toEqual(g.direct.parameters);
    expect(Object.keys(g.argo.artifacts).sort()).toEqual(Object.keys(g.direct.artifacts).sort());
    for (const [run, outs] of Object.entries(g)) {
      await download_artifact(outs.artifacts.result_dir!, { path: at(`${run}-global`) });
      await download_artifact(outs.artifacts.hello_file!, { path: at(`${run}-global`) });
    }
    expect(tree(at("argo-global"))).toEqual(tree(at("direct-global")));
    expect(tree(at("argo-global"))).toEqual({ "a.txt": "one\n", "greeting.txt": "hello\n", "sub/b.txt": "two\n" });
    for (const art of ["res", "greeting"]) {
      const r = await dflow("download", direct.id!, "make", art, `cli-direct-${art}`);
      const s = await dflow("download", id, "make", art, `cli-argo-${art}`);
      expect([r.exitCode, s.exitCode], `${r.all}\n${s.all}`).toEqual([0, 0]);
      expect(tree(at(`cli-argo-${art}`))).toEqual(tree(at(`cli-direct-${art}`)));
    }
  });
});
