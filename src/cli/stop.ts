// `dflow stop <id>`: end a running workflow. Its engine is asked to stop
// (SIGTERM): it kills its steps' processes, marks them and the workflow
// Failed with the reason, and exits. An engine that is already gone is
// cleaned up after: its steps' processes killed, their phases made final.
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { killStaleSteps, markStopped } from "../../engine/workflow-run.js";
import { lockAlive, readLock } from "../../engine/store/engine-dir.js";
import { workflowDir } from "./common.js";
import fs from "node:fs";
import path from "node:path";

export function register(program: Command): void {
  program
    .command("stop")
    .description("stop a running workflow: its steps and the workflow end Failed, with the reason")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const dir = workflowDir(id);
      const lock = readLock(dir);
      const status = fs.readFileSync(path.join(dir, "status"), "utf8");
      if (lock && lockAlive(lock)) {
        process.kill(lock.pid, "SIGTERM");
        for (let i = 0; i < 100 && lockAlive(lock); i++) await sleep(100);
        if (lockAlive(lock)) {
          process.kill(lock.pid, "SIGKILL");
          killStaleSteps(dir);
          markStopped(dir, null, "stopped (dflow stop; the engine did not stop in 10 s and was killed)");
        }
        process.stdout.write(`Workflow ${id} stopped\n`);
        return;
      }
      if (status === "Running") {
        killStaleSteps(dir);
        markStopped(dir, null, "stopped (dflow stop; its engine was already gone)");
        process.stdout.write(`Workflow ${id} stopped (its engine was already gone)\n`);
        return;
      }
      process.stdout.write(`Workflow ${id} is not running (${status})\n`);
    });
}
