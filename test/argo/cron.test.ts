// CronWorkflows (engine/argo/cron.ts, engine/api/argo-cron.ts): schedules as
// Argo reads them, and the scheduler's decisions at chosen times (tick(now)),
// with real workflows run by the workflow service in this process. No test
// waits for the clock: time is what the test hands the scheduler.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Workflow } from "../../src/workflow.js";
import { cronSchedules, dueRun } from "../../engine/argo/cron.js";
import { ArgoWorkflowService } from "../../engine/api/argo.js";
import { CronWorkflows } from "../../engine/api/argo-cron.js";
import { WorkflowStore } from "../../engine/api/workflows.js";
import { until } from "../support/wait.js";
import { useArgoWorkdir } from "../support/workdir.js";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const workdir = useArgoWorkdir("argo-cron-");
let gates: string;
let argo: ArgoWorkflowService;
const NS = "default";
beforeAll(() => {
  gates = fs.mkdtempSync("/var/tmp/argo-cron-");
  // Pods write there for real (each has a root of its own otherwise).
  process.env.DFLOW_ARGO_HOST_DIRS = gates;
  argo = new ArgoWorkflowService(new WorkflowStore(workdir.dir));
});
afterAll(() => {
  fs.rmSync(gates, { recursive: true, force: true });
  delete process.env.DFLOW_ARGO_HOST_DIRS;
});

const at = (iso: string) => new Date(iso);

describe("schedules", () => {
  it("read five-field cron expressions, descriptors, @every and time zones as Argo's cron library does", () => {
    const [daily] = cronSchedules({ schedules: ["0 2 * * *"], timezone: "Asia/Tokyo" });
    expect(daily.next(at("2026-12-05T00:00:00Z"))).toEqual(at("2026-12-05T17:00:00Z")); // 02:00 in Tokyo
    const [utc] = cronSchedules({ schedules: ["CRON_TZ=UTC 30 * * * *"] });
    expect(utc.next(at("2026-12-05T10:31:00Z"))).toEqual(at("2026-12-05T11:30:00Z"));
    const [every] = cronSchedules({ schedules: ["@every 90s"] });
    expect(every.next(at("2026-12-05T10:00:00.400Z"))).toEqual(at("2026-12-05T10:01:30Z"));
    const [hourly] = cronSchedules({ schedule: "@hourly" });
    expect(hourly.next(at("2026-12-05T10:00:00Z"))).toEqual(at("2026-12-05T11:00:00Z"));
    // Day of month or day of week, when both are restricted (the 1st, or a Monday).
    const [either] = cronSchedules({ schedules: ["0 0 1 * 1"] });
    expect(either.next(at("2026-12-05T00:00:00Z"))).toEqual(at("2026-12-07T00:00:00Z"));
  });

  it("give the latest run due since the last one (missed ones are not run again)", () => {
    const s = cronSchedules({ schedules: ["*/5 * * * *"] });
    expect(dueRun(s, at("2026-12-05T10:00:00Z"), at("2026-12-05T10:04:59Z"))).toBeUndefined();
    expect(dueRun(s, at("2026-12-05T10:00:00Z"), at("2026-12-05T10:17:00Z"))).toEqual(at("2026-12-05T10:15:00Z"));
  });

  it("are not run by `dflow run` or Workflow.from_yaml, which say where they run", () => {
    expect(() => Workflow.from_yaml("apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata: {name: c}\nspec: {schedules: ['* * * * *'], workflowSpec: {entrypoint: m}}")).toThrow(
      "expected one document of kind Workflow, found CronWorkflow (templates are not run: submit a Workflow that references them; a CronWorkflow runs on its schedule in `dflow server`: create it there with `argo cron create`)",
    );
  });

  it("refuse, in one line naming the schedule, what does not parse", () => {
    expect(() => cronSchedules({ schedules: ["* * * * * *"] })).toThrow('invalid spec: spec.schedules[0] "* * * * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 6');
    expect(() => cronSchedules({ schedules: ["0 2 * * *"], timezone: "Mars/Olympus" })).toThrow('invalid spec: spec.schedules[0] "0 2 * * *": unknown time zone "Mars/Olympus"');
    expect(() => cronSchedules({ schedules: ["@every soon"] })).toThrow('invalid spec: spec.schedules[0] "@every soon": @every needs a duration of at least 1s');
    expect(() => cronSchedules({})).toThrow("invalid spec: spec.schedules must hold at least one schedule");
  });
});

/** A CronWorkflow whose workflow echoes its scheduled time, or first waits for `gate` (a file) to exist. */
function cronWorkflow(name: string, spec: Obj = {}, gate?: string): Obj {
  const script = gate ? `until [ -e ${gate} ]; do sleep 0.05; done; echo {{workflow.scheduledTime}}` : "echo {{workflow.scheduledTime}}";
  return { metadata: { name }, spec: { schedules: ["*/5 * * * *"], ...spec, workflowSpec: { entrypoint: "main", templates: [{ name: "main", container: { image: "alpine", command: ["sh", "-c", script] } }] } } };
}

/**
 * A scheduler of its own (its CronWorkflows in a folder of their own; their workflows run by the one
 * service), as a server that has been running: its first pass is long before anything is due.
 */
async function scheduler(): Promise<CronWorkflows> {
  const c = new CronWorkflows(fs.mkdtempSync(path.join(workdir.dir, "cron-")), argo);
  await c.tick(new Date(0));
  return c;
}

const children = (name: string): Obj[] => argo.list(NS, { labelSelector: `workflows.argoproj.io/cron-workflow=${name}` }).items as Obj[];
const ended = (name: string) => until(`the workflows of ${name} to end`, () => children(name).every((w) => ["Succeeded", "Failed", "Error"].includes(w.status.phase)));
/** The n-th run time of the cron's schedule after it was created. */
function runTime(cron: Obj, n: number): Date {
  const [s] = cronSchedules(cron.spec);
  let t = new Date(cron.metadata.creationTimestamp);
  for (let i = 0; i < n; i++) t = s.next(t)!;
  return t;
}
const plus = (d: Date, s: number) => new Date(d.getTime() + s * 1000);

describe("the scheduler (tick at a given time)", () => {
  it("starts the workflow that is due, once, named <cron>-<unix time>, with its scheduled time; counts it when it ends", async () => {
    const cron = await scheduler();
    const made = cron.create(NS, { cronWorkflow: cronWorkflow("nightly") });
    await cron.tick(plus(runTime(made, 1), -1));
    expect(children("nightly")).toEqual([]);
    const due = runTime(made, 1);
    await cron.tick(plus(due, 2));
    await cron.tick(plus(due, 3)); // the same run is not started twice
    const [wf] = children("nightly");
    expect(children("nightly")).toHaveLength(1);
    expect(wf.metadata.name).toBe(`nightly-${due.getTime() / 1000}`);
    expect(wf.metadata.annotations["workflows.argoproj.io/scheduled-time"]).toBe(due.toISOString().replace(".000Z", "Z"));
    await ended("nightly");
    const done = argo.get(NS, wf.metadata.name);
    expect(Object.values(done.status.nodes as Obj).map((n: Obj) => n.outputs?.result)).toEqual([due.toISOString().replace(".000Z", "Z")]);
    await cron.tick(plus(due, 4));
    expect(cron.get(NS, "nightly").status).toMatchObject({ lastScheduledTime: due.toISOString().replace(".000Z", "Z"), succeeded: 1, phase: "Active" });
  });

  it("honours concurrencyPolicy Forbid, suspend and the history limit", async () => {
    const cron = await scheduler();
    const gate = path.join(gates, "forbid");
    const made = cron.create(NS, { cronWorkflow: cronWorkflow("forbid", { concurrencyPolicy: "Forbid", successfulJobsHistoryLimit: 1 }, gate) });
    await cron.tick(plus(runTime(made, 1), 1));
    expect(children("forbid").map((w) => w.status.phase)).toEqual(["Running"]);
    // The next run is due while the first still runs: not started.
    await cron.tick(plus(runTime(made, 2), 1));
    expect(children("forbid")).toHaveLength(1);
    expect(cron.get(NS, "forbid").status.active).toEqual([expect.objectContaining({ kind: "Workflow", name: children("forbid")[0].metadata.name })]);
    fs.writeFileSync(gate, "");
    await ended("forbid");
    cron.setSuspend(NS, "forbid", true);
    await cron.tick(plus(runTime(made, 3), 1));
    expect(children("forbid")).toHaveLength(1);
    cron.setSuspend(NS, "forbid", false);
    await cron.tick(plus(runTime(made, 4), 1));
    await ended("forbid");
    // Two succeeded, one kept: the newest.
    await cron.tick(plus(runTime(made, 4), 2));
    expect(children("forbid").map((w) => w.metadata.name)).toEqual([`forbid-${runTime(made, 4).getTime() / 1000}`]);
    expect(cron.get(NS, "forbid").status).toMatchObject({ succeeded: 2 });
  });

  it("runs a run missed while no scheduler ran (a server restarted) only within startingDeadlineSeconds, as Argo", async () => {
    const root = fs.mkdtempSync(path.join(workdir.dir, "cron-"));
    const made = new CronWorkflows(root, argo).create(NS, { cronWorkflow: cronWorkflow("missed", { startingDeadlineSeconds: 10 }) });
    // The server starts 30 s after the run was due: too late.
    await new CronWorkflows(root, argo).tick(plus(runTime(made, 1), 30));
    expect(children("missed")).toEqual([]);
    // Another start, 5 s after the next one: within the deadline.
    await new CronWorkflows(root, argo).tick(plus(runTime(made, 2), 5));
    expect(children("missed").map((w) => w.metadata.name)).toEqual([`missed-${runTime(made, 2).getTime() / 1000}`]);
    // Without startingDeadlineSeconds a missed run is not run at all.
    const none = new CronWorkflows(root, argo).create(NS, { cronWorkflow: cronWorkflow("no-deadline") });
    await new CronWorkflows(root, argo).tick(plus(runTime(none, 1), 1));
    expect(children("no-deadline")).toEqual([]);
    await ended("missed");
  });

  it("stops for good once stopStrategy's expression holds, and skips a run whose when is false", async () => {
    const cron = await scheduler();
    const made = cron.create(NS, { cronWorkflow: cronWorkflow("twice", { stopStrategy: { expression: "cronworkflow.succeeded >= 1" }, when: "{{cronworkflow.failed}} == 0" }) });
    await cron.tick(plus(runTime(made, 1), 1));
    await ended("twice");
    await cron.tick(plus(runTime(made, 2), 1));
    const stopped = cron.get(NS, "twice");
    expect(stopped.status).toMatchObject({ phase: "Stopped", succeeded: 1 });
    expect(stopped.metadata.labels["workflows.argoproj.io/cron-workflow-completed"]).toBe("true");
    expect(children("twice")).toHaveLength(1);
    const skip = cron.create(NS, { cronWorkflow: cronWorkflow("never", { when: "{{cronworkflow.succeeded}} == 5" }) });
    await cron.tick(plus(runTime(skip, 1), 1));
    expect(children("never")).toEqual([]);
    // One that cannot be evaluated says so in its conditions, until the next run decided on.
    const other = await scheduler();
    const broken = other.create(NS, { cronWorkflow: cronWorkflow("broken-when", { when: "{{= now() > 1 }}" }) });
    await other.tick(plus(runTime(broken, 1), 1));
    await other.tick(plus(runTime(broken, 1), 2));
    expect(other.get(NS, "broken-when").status.conditions).toEqual([expect.objectContaining({ type: "SpecError", status: "True", message: expect.stringMatching(/^cannot evaluate when "\{\{= now\(\) > 1 \}\}"/) })]);
    expect(children("broken-when")).toEqual([]);
  });

  it("evaluates a when with now() and lastScheduledTime, Argo's docs' example: the first run goes, one 5 minutes later does not", async () => {
    const cron = await scheduler();
    const when = "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}";
    const made = cron.create(NS, { cronWorkflow: cronWorkflow("spaced", { when }) });
    await cron.tick(plus(runTime(made, 1), 1));
    expect(children("spaced")).toHaveLength(1);
    await ended("spaced");
    // The schedule's next run is 5 minutes after the last one, which now() is not 6 minutes past.
    await cron.tick(plus(runTime(made, 2), 1));
    expect(children("spaced")).toHaveLength(1);
    const status = cron.get(NS, "spaced").status;
    expect(status.conditions ?? []).toEqual([]);
    // A run the when skipped is not a scheduled run (Argo sets lastScheduledTime when it submits one).
    expect(status.lastScheduledTime).toBe(runTime(made, 1).toISOString().replace(".000Z", "Z"));
  });

  it("gives a when cronworkflow.labels.json and annotations.json as Go's json.Marshal writes them (keys sorted, null for none)", async () => {
    const cron = await scheduler();
    const labelled = cronWorkflow("labelled", { when: `'{{cronworkflow.labels.json}}' == '{"b":"2","team":"x"}' && '{{cronworkflow.annotations.json}}' == 'null'` });
    labelled.metadata = { ...(labelled.metadata as Obj), labels: { team: "x", b: "2" } };
    const made = cron.create(NS, { cronWorkflow: labelled });
    await cron.tick(plus(runTime(made, 1), 1));
    expect(cron.get(NS, "labelled").status.conditions ?? []).toEqual([]);
    expect(children("labelled")).toHaveLength(1);
    await ended("labelled");
  });

  it("refuses at create, with Argo's error, a bad policy, a bad schedule or a workflow that cannot run here", async () => {
    const cron = await scheduler();
    const refused = (spec: Obj) => {
      try {
        cron.create(NS, { cronWorkflow: cronWorkflow("bad", spec) });
      } catch (e) {
        return [(e as { code: number }).code, (e as Error).message];
      }
      return "created";
    };
    expect(refused({ concurrencyPolicy: "Sometimes" })).toEqual([3, 'spec.concurrencyPolicy "Sometimes": expected Allow, Forbid or Replace']);
    expect(refused({ schedules: ["61 * * * *"] })[1]).toMatch(/^invalid spec: spec\.schedules\[0\] "61 \* \* \* \*": /);
    const resource = cronWorkflow("bad");
    resource.spec.workflowSpec.templates[0] = { name: "main", resource: { action: "create", manifest: "apiVersion: batch/v1\nkind: Job\n" } };
    expect(() => cron.create(NS, { cronWorkflow: resource })).toThrow('templates.main.resource.manifest is not supported when running Argo workflows locally: a resource template acts here on Argo Workflows only (a workflow of workflows); kind "Job" needs Kubernetes');
    expect(cron.list(NS).items.map((c: Obj) => c.metadata.name)).not.toContain("bad");
  });
});
