// Every node script the engine writes into a step directory (slices helper,
// success-threshold check, TS-OP launcher with and without bundle, remote
// TS-OP job script) runs the same under a package.json that says
// "type": "module", one that says "type": "commonjs", and none: node reads an
// extensionless script as whichever the nearest package.json says, and a
// workflow directory can be anywhere.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { checkScript } from "../src/check-steps.js";
import { initArtifactTemplate } from "../src/slices.js";
import type { TsOPTemplate } from "../src/templates.js";
import { renderScript, rerootTmp } from "../engine/render.js";

const root = path.resolve(import.meta.dirname, "..");
// The launchers import the built OP runner by its URL, so they come from dist/ (built by `npm test`).
const { tsOPScript, remoteTsOPScript } = (await import(path.join(root, "dist/engine/ts-op-script.js"))) as typeof import("../engine/ts-op-script.js");
const { bundleFor } = (await import(path.join(root, "dist/engine/ts-op-bundle.js"))) as typeof import("../engine/ts-op-bundle.js");
const opModule = path.join(root, "fixtures/ops/warm.ts");
const op = { opName: "WarmEcho", module: opModule } as TsOPTemplate;

const base = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-scripts-"));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const packages: Record<string, object | null> = { "type module": { type: "module" }, "type commonjs": { type: "commonjs" }, "no package.json": null };

let n = 0;
/** A step directory under a folder with package.json `pkg`; runs `script` there as the engine does. */
async function runStep(pkg: object | null, script: (workdir: string) => string) {
  const folder = path.join(base, String(n++));
  fs.mkdirSync(folder);
  if (pkg) fs.writeFileSync(path.join(folder, "package.json"), JSON.stringify(pkg));
  const workdir = path.join(folder, "step", "workdir");
  fs.mkdirSync(path.join(workdir, "tmp"), { recursive: true });
  const file = path.join(folder, "step", "script");
  fs.writeFileSync(file, script(workdir));
  const r = await execa(process.execPath, [file], { cwd: workdir, reject: false, all: true });
  return { ...r, workdir };
}

const render = (script: string, workdir: string, parameters: Record<string, unknown> = {}) =>
  renderScript(rerootTmp(script, workdir), { workflowName: "wf", podName: "wf-step", parameters: new Map(Object.entries(parameters).map(([k, value]) => [k, { value }])), where: { workflow: "wf", step: "step" } });

describe.each(Object.entries(packages))("generated node scripts under %s", (_, pkg) => {
  it("the slices helper (init-artifact) creates the merged outputs and lists sub-path slices", async () => {
    const t = initArtifactTemplate({ name: "proc", slices: { output_artifact: ["out"], input_artifact: ["inp"], sub_path: true } } as unknown as TsOPTemplate);
    const r = await runStep(pkg, (workdir) => {
      const catalog = path.join(workdir, "tmp", "inputs", "artifacts", "inp");
      fs.mkdirSync(catalog, { recursive: true });
      fs.writeFileSync(path.join(catalog, "a"), JSON.stringify({ path_list: [{ dflow_list_item: "b.txt", order: 1 }, { dflow_list_item: "a.txt", order: 0 }] }));
      return render(t.script, workdir);
    });
    expect(r.exitCode, r.all).toBe(0);
    expect(fs.readFileSync(path.join(r.workdir, "tmp/outputs/artifacts/out/.dflow/init"), "utf8")).toBe('{"path_list": []}');
    expect(fs.readFileSync(path.join(r.workdir, "tmp/outputs/parameters/dflow_slices_path"), "utf8")).toBe('[{"order": 0, "inp": "a.txt"}, {"order": 1, "inp": "b.txt"}]');
  });

  it.each(["num", "ratio"] as const)("the %s success check passes and fails on its threshold", async (kind) => {
    const ok = await runStep(pkg, (w) => render(checkScript(kind), w, { success: ["1", "1", "0"], threshold: kind === "num" ? 2 : 0.5, total: 3 }));
    expect(ok.exitCode, ok.all).toBe(0);
    expect(ok.all).toContain("Num success: 2");
    const bad = await runStep(pkg, (w) => render(checkScript(kind), w, { success: ["1", "0", "0"], threshold: kind === "num" ? 2 : 0.5, total: 3 }));
    expect(bad.exitCode, bad.all).toBe(1);
    expect(bad.all).toContain("AssertionError: 1 of the items succeeded");
  });

  const spec = (workdir: string, bundle?: string) => ({ module: opModule, op: "WarmEcho", workdir, parameters: { i: "7" }, key: null, workflow_name: "wf", ...(bundle ? { bundle } : {}) });
  const expectRan = (r: { exitCode?: number; all?: string; workdir: string }) => {
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain("item 7 in");
    expect(fs.readFileSync(path.join(r.workdir, "tmp/outputs/parameters/calls"), "utf8")).toBe("1");
  };

  it("the TS-OP launcher runs the OP through tsx", async () => {
    expectRan(await runStep(pkg, (w) => tsOPScript(spec(w), op, "step")));
  });

  it("the TS-OP launcher runs the OP from its bundle", async () => {
    const bundle = await bundleFor(opModule);
    expect(bundle).not.toBeNull();
    expectRan(await runStep(pkg, (w) => tsOPScript(spec(w, bundle!), op, "step")));
  });

  it("the remote TS-OP job script runs the shipped bundle", async () => {
    const bundle = (await bundleFor(opModule))!;
    // As on the cluster: the bundle travels as dflow-op.mjs, and the job's sed replaces $(pwd).
    expectRan(await runStep(pkg, (w) => {
      fs.copyFileSync(bundle, path.join(w, "dflow-op.mjs"));
      return remoteTsOPScript(spec("$(pwd)", "$(pwd)/dflow-op.mjs"), op, "step").replaceAll("$(pwd)", w);
    }));
  });
});
