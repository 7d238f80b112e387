// Each test runs in a fresh directory, as dflow's tests run in an empty cwd.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { reset_config } from "dflow-ts";

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

export function read(p: string): string {
  return fs.readFileSync(p, "utf8");
}
