// A 500-way shell fan-out, several times in a row: every run Succeeded with
// exactly 500 step directories, all Succeeded, and a children file that
// names every one of them (dflow's debug mode failed every 100-way shell
// fan-out on a race in its children file). Five runs keep `npm test` inside
// CI's time budget; DFLOW_TEST_SOAK_RUNS=20 (or more) is the soak version.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputParameter, Inputs, ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { useTempWorkdir } from "../support/workdir.js";

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
      fs.rmSync(wfdir, { recursive: true, force: true });
    }
  });
});
