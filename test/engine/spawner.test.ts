// The leader co-processes that start shell and script steps
// (engine/executors/spawner.ts): each step runs in its leader's process
// group, not the engine's; a leader is reused by the next step; what a step
// leaves running in the background ends with it; a timed-out step that
// ignores SIGTERM is killed with everything it started, and its leader,
// which survives to record the status, serves the next step.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { until } from "../support/wait.js";
import { useTempWorkdir } from "../support/workdir.js";
import { alive, statField } from "../support/proc.js";

const pids = (file: string) => fs.readFileSync(file, "utf8").trim().split(/\s+/).map(Number);

describe.runIf(process.platform === "linux")("step processes started by leader co-processes", () => {
  const wd = useTempWorkdir();

  it("steps run in a group of their own, one leader serves a chain, and a step's background processes end with it", async () => {
    const bg = new ShellOPTemplate({
      name: "bg",
      // A background sleep outlives the script unless the step's group is swept when it ends.
      script: [
        "sleep 300 &",
        "echo $! >> {{inputs.parameters.pidfile}}",
        "cut -d' ' -f5 /proc/$$/stat > /tmp/pgid",
        "cut -d' ' -f6 /proc/$$/stat > /tmp/sid",
      ].join("\n"),
      inputs: new Inputs({ parameters: { pidfile: new InputParameter() } }),
      outputs: new Outputs({ parameters: { pgid: new OutputParameter({ value_from_path: "/tmp/pgid" }), sid: new OutputParameter({ value_from_path: "/tmp/sid" }) } }),
    });
    const pidfile = path.join(wd.dir, "bg.pids");
    const wf = new Workflow({ name: "leaders" });
    for (let i = 0; i < 3; i++) wf.add(new Step({ name: `s${i}`, template: bg, parameters: { pidfile } }));
    const r = await wf.submit();
    expect(r.status).toBe("Succeeded");

    const groups = [0, 1, 2].map((i) => String(wf.query_step({ name: `s${i}` })[0].outputs.parameters.pgid.value).trim());
    const sessions = [0, 1, 2].map((i) => String(wf.query_step({ name: `s${i}` })[0].outputs.parameters.sid.value).trim());
    // The three steps one after the other: the first step's leader, idle again, runs the next two.
    expect(new Set(groups).size).toBe(1);
    // Its own group and session, not the engine's (a Ctrl-C in the terminal reaches only the engine).
    expect(groups[0]).not.toBe(statField("self", 5));
    expect(sessions[0]).toBe(groups[0]);
    expect(sessions[0]).not.toBe(statField("self", 6));

    const started = pids(pidfile);
    expect(started).toHaveLength(3);
    await until("the steps' background sleeps to end", () => started.every((p) => !alive(p)));
  });

  it("a timed-out step that ignores SIGTERM is killed with what it started; its leader records the status and runs the next step", { timeout: 120_000 }, async () => {
    const pidfile = path.join(wd.dir, "stubborn.pids");
    const stubborn = new ShellOPTemplate({
      name: "stubborn",
      // SIGTERM ignored by the script and (inherited) by its sleep: only the SIGKILL after the grace period ends them.
      // The timeout leaves a busy machine ample time to start sh and record the pids.
      script: "trap '' TERM\necho $$ > {{inputs.parameters.pidfile}}\nsleep 300 &\necho $! >> {{inputs.parameters.pidfile}}\ncut -d' ' -f5 /proc/$$/stat >> {{inputs.parameters.pidfile}}\nwait",
      inputs: new Inputs({ parameters: { pidfile: new InputParameter() } }),
      timeout: 10,
    });
    const after = new ShellOPTemplate({
      name: "after",
      script: "cut -d' ' -f5 /proc/$$/stat > /tmp/pgid",
      outputs: new Outputs({ parameters: { pgid: new OutputParameter({ value_from_path: "/tmp/pgid" }) } }),
    });
    const wf = new Workflow({ name: "stubborn" });
    wf.add(new Step({ name: "hang", template: stubborn, parameters: { pidfile }, continue_on_failed: true }));
    wf.add(new Step({ name: "after", template: after }));
    const r = await wf.submit();
    expect(r.status).toBe("Succeeded");

    const hang = wf.query_step({ name: "hang" })[0];
    expect(hang.phase).toBe("Failed");
    expect(hang.message).toMatch(/timed out after 10s \(timeout=10\); its process group was killed/);
    const [shPid, sleepPid, group] = pids(pidfile);
    await until("the timed-out step's processes to end", () => !alive(shPid) && !alive(sleepPid));
    // Killed, not left a zombie: the leader, spared, reaped it, recorded its status and took the next step.
    expect(fs.readFileSync(path.join(hang.dir, ".dflow-ts-exit"), "utf8")).toBe("137\n");
    const next = String(wf.query_step({ name: "after" })[0].outputs.parameters.pgid.value).trim();
    expect(next).toBe(String(group));
    expect(alive(group)).toBe(true);
  });
});
