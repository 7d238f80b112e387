// A 500-way shell fan-out, several times in a row: every run Succeeded with
// exactly 500 step directories, all Succeeded, and a children file that
// names every one of them (dflow's debug mode failed every 100-way shell
// fan-out on a race in its children file). Five runs keep `npm test` inside
// CI's time budget; DFLOW_TEST_SOAK_RUNS=20 (or more) is the soak version.
// Finished steps do not pile up as zombies of the sh co-process that starts
// them (spawner.ts): 100k steps ran the machine out of pids once.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputParameter, Inputs, ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { useTempWorkdir } from "../support/workdir.js";

/** [pid, parent pid, state] of every process (Linux /proc). */
function processes(): Array<[number, number, string]> {
  return fs.readdirSync("/proc").flatMap((d) => {
    if (!/^\d+$/.test(d)) return [];
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return [[Number(d), Number(ppid), state!] as [number, number, string]];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/** Zombie children of this process's children (the co-process's finished jobs not reaped). */
function zombieGrandchildren(): number {
  const all = processes();
  const children = new Set(all.filter(([, ppid]) => ppid === process.pid).map(([pid]) => pid));
  return all.filter(([, ppid, state]) => children.has(ppid) && state === "Z").length;
}

describe("robustness", () => {
  const wd = useTempWorkdir();

  const runs = Number(process.env.DFLOW_TEST_SOAK_RUNS ?? 5);

  it(`a 500-way shell fan-out succeeds ${runs} times in a row`, { timeout: 3_600_000 }, async () => {
    const t = new ShellOPTemplate({ name: "noop", script: "true", inputs: new Inputs({ parameters: { i: new InputParameter() } }) });
    for (let run = 0; run < runs; run++) {
      const wf = new Workflow({ name: "fan" });
      wf.add(new Step({ name: "each", template: t, parameters: { i: "{{item}}" }, with_param: Array.from({ length: 500 }, (_, i) => i) }));
      const r = await wf.submit();
      expect(r.status, `run ${run}: ${r.error?.message}`).toBe("Succeeded");
      const wfdir = path.join(wd.dir, r.id);
      const dirs = fs.readdirSync(wfdir).filter((d) => fs.existsSync(path.join(wfdir, d, "name")));
      expect(dirs.length, `run ${run}`).toBe(500);
      const phases = new Set(dirs.map((d) => fs.readFileSync(path.join(wfdir, d, "phase"), "utf8")));
      expect([...phases], `run ${run}`).toEqual(["Succeeded"]);
      const children = JSON.parse(fs.readFileSync(path.join(wfdir, "children"), "utf8")) as Record<string, string>;
      expect(Object.keys(children).length, `run ${run}`).toBe(500);
      expect(new Set(Object.values(children))).toEqual(new Set(dirs));
      // Without reaping, 500 more every run; with it, at most the jobs that ended after the last one started.
      if (process.platform === "linux") expect(zombieGrandchildren(), `run ${run}`).toBeLessThan(50);
      fs.rmSync(wfdir, { recursive: true, force: true });
    }
  });
});
