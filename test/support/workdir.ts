// Each test runs in a fresh directory, as dflow's tests run in an empty cwd.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { reset_config } from "dflow-ts";
import { config } from "../../src/config.js";

export function useTempWorkdir(): { readonly dir: string } {
  const state = { dir: "" };
  const start = process.cwd();
  beforeEach(() => {
    state.dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-test-")));
    process.chdir(state.dir);
    reset_config({ ...process.env, DFLOW_DEBUG_WORKDIR: "." });
  });
  afterEach(() => {
    process.chdir(start);
    if (!process.env.DFLOW_KEEP_TEST_DIRS) fs.rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
}

/** One work directory for a file's tests (config.debug_workdir: where Argo runs go), restored after them. */
export function useArgoWorkdir(prefix: string): { readonly dir: string } {
  const state = { dir: "" };
  let before = "";
  beforeAll(() => {
    state.dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
    before = config.debug_workdir;
    config.debug_workdir = state.dir;
  });
  afterAll(() => {
    config.debug_workdir = before;
  });
  return state;
}

export function read(p: string): string {
  return fs.readFileSync(p, "utf8");
}
