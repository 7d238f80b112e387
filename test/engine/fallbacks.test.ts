// The fallbacks: steps started with node's spawn() instead of the sh
// co-process (DFLOW_NO_SPAWNER), TS OPs loaded through tsx instead of a
// bundle (DFLOW_NO_BUNDLE). Same results, through the real binary.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const cli = path.join(root, "dist", "src", "cli.js");

async function run(file: string, env: Record<string, string>) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-fallback-"));
  try {
    return await execa(process.execPath, [cli, "run", file], { cwd, reject: false, all: true, env });
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

describe("fallbacks", () => {
  it("by default a TS-OP step runs from a bundle of its module (the fast path is really taken)", async () => {
    const { bundleFor } = await import("../../engine/ts-op-bundle.js");
    const file = await bundleFor(path.join(root, "fixtures", "ops", "simple.ts"));
    expect(file).not.toBeNull();
    expect(fs.existsSync(file!)).toBe(true);
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-bundle-"));
    try {
      const r = await execa(process.execPath, [cli, "run", path.join(root, "examples", "simple-example.ts")], { cwd, reject: false, all: true });
      expect(r.exitCode, r.all).toBe(0);
      const wf = fs.readdirSync(cwd).find((d) => d.startsWith("simple-example-"))!;
      const step = fs.readdirSync(path.join(cwd, wf)).find((d) => d.includes("-step0-"))!;
      expect(fs.readFileSync(path.join(cwd, wf, step, "script"), "utf8")).toMatch(/"bundle": ".*\.mjs"/);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  for (const env of [{ DFLOW_NO_SPAWNER: "1" }, { DFLOW_NO_BUNDLE: "1" }, { DFLOW_NO_SPAWNER: "1", DFLOW_NO_BUNDLE: "1" }]) {
    const label = Object.keys(env).join("+");
    it(`${label}: timeouts, retries and TS OPs work, and failures fail`, async () => {
      // The timed-out OP would sleep an hour: a correct engine cannot miss the timeout, and no
      // step has to finish within one (node's start-up on a busy machine can take seconds).
      const ok = await run(path.join(root, "test", "engine", "fallback-workflow.ts"), env);
      expect(ok.exitCode, ok.all).toBe(0);
      expect(ok.all).toMatch(/^flaky: Succeeded$/m);
      expect(ok.all).toMatch(/^attempt 1 of flaky: .*flaky failure on attempt 2/m);
      expect(ok.all).toMatch(/^hang: Failed$/m);
      expect(ok.all).toMatch(/^attempt 0 of hang: .*timed out after 2s \(timeout=2\); its process group was killed \(counted as a transient error\)/m);
      expect(ok.all).toMatch(/^message of hang: .*timed out after 2s.*\(attempt 2; /m);
      expect(ok.all).toMatch(/^workflow fallback-\w+: Succeeded$/m);
      const simple = await run(path.join(root, "examples", "simple-example.ts"), env);
      expect(simple.exitCode, simple.all).toBe(0);
      const bad = await run(path.join(root, "examples", "failure.ts"), env);
      expect(bad.exitCode, bad.all).toBe(1);
      expect(bad.all).toMatch(/script exited with code 3/);
    });
  }
});
