// Steps see the engine's environment as it is when they start (as dflow's
// do), on every launch path, however often the workflow script changes
// process.env: after building, while a workflow runs, between workflows.
// The script is fixtures/workflows/env-live.ts, run as its own process so
// that the launchers (sh co-process, warm workers) are its own.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const script = path.join(root, "fixtures", "workflows", "env-live.ts");
const tsx = pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

async function runScript(env: Record<string, string>): Promise<{ status: string[]; one: Record<string, string>; two: Record<string, string> }> {
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-env-")));
  const r = await execa(process.execPath, ["--import", tsx, script], { cwd, reject: false, all: true, timeout: 150_000, env: { ...env, DFLOW_DEBUG_WORKDIR: "." } });
  const line = /^RESULT (.*)$/m.exec(r.stdout)?.[1];
  expect(line, r.all).toBeDefined();
  fs.rmSync(cwd, { recursive: true, force: true });
  return JSON.parse(line!);
}

const PATHS = ["shell", "fresh", "warm", "dispatcher"];

function expectAll(got: Record<string, string>, group: string, want: string): void {
  for (const p of PATHS) expect(got[`${group}-${p}`], `${group}-${p}`).toBe(want);
}

describe("steps see the environment as it is when they start", () => {
  for (const [label, env] of [
    ["through the sh co-process", {}],
    ["through node's spawn (DFLOW_NO_SPAWNER=1)", { DFLOW_NO_SPAWNER: "1" }],
  ] as const) {
    it(`set, changed and deleted variables, ${label}`, { timeout: 180_000 }, async () => {
      const r = await runScript(env);
      expect(r.status).toEqual(["Succeeded", "Succeeded"]);
      // Set after building, before submit.
      expectAll(r.one, "first", "one|keep|-");
      // Changed, deleted and set while the workflow ran, between two of its steps.
      expectAll(r.one, "second", "two|-|new");
      // Changed, set again and deleted between two workflows.
      expectAll(r.two, "first", "three|back|-");
      expectAll(r.two, "second", "three|back|-");
    });
  }
});
