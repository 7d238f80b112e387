// CronWorkflows of the Argo Server API: stored in the work directory
// (<root>/.argo-templates/cron/<ns>/<name>.json, with their status), checked
// when stored (schedules, the workflow they run), and run by the server while
// it runs: each second the scheduler starts the workflows that are due, as
// Argo's cron controller does (concurrencyPolicy, startingDeadlineSeconds,
// when, stopStrategy, history limits, suspend). Their workflows are ordinary
// ones of the namespace: `argo list`, `dflow list` and the UI show them.
import fs from "node:fs";
import path from "node:path";
import { evaluate, evaluateWhen } from "../expr/index.js";
import { timeOf } from "../expr/time.js";
import { CRON_LABEL, type CronSchedule, cronChild, cronSchedules, dueRun } from "../argo/cron.js";
import { ArgoSpecError } from "../argo/manifest.js";
import { type Vars, substitute } from "../argo/tags.js";
import { writeAtomicSync } from "../store/fsx.js";
import { isFinal } from "./read.js";
import { ArgoApiError, type Obj, asObj, checkName, k8sTime, namespacesIn, str } from "./argo-shapes.js";
import { storedMeta } from "./argo-templates.js";

/** What the scheduler needs of the workflow service (engine/api/argo.ts). */
export interface CronHost {
  create(namespace: string, body: Obj): Promise<Obj>;
  lint(namespace: string, body: Obj): Obj;
  /** The namespace's workflows that carry label `key`, by its value: name, uid, creationTimestamp and phase only (read each second). */
  labelled(namespace: string, key: string): Map<string, Obj[]>;
  shutdown(namespace: string, name: string, body: Obj, strategy: "Stop" | "Terminate"): Promise<Obj>;
  delete(namespace: string, name: string, force?: boolean): Promise<Obj>;
}

const TICK_MS = 1000;
/** The scheduler's own record beside the CronWorkflow (not served): the last run it decided on, the ended workflows it counted. */
const PRIVATE = "dflowScheduler";


export class CronWorkflows {
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  /** When the last pass was: a run due after it came while this scheduler ran (on time, however busy the machine). */
  private lastTick?: Date;

  constructor(
    readonly root: string,
    private readonly host: CronHost,
  ) {}

  private dir(namespace: string): string {
    return path.join(this.root, ".argo-templates", "cron", checkName(namespace, "namespace"));
  }

  private file(namespace: string, name: string): string {
    return path.join(this.dir(namespace), `${checkName(name, "CronWorkflow name")}.json`);
  }

  private read(namespace: string, name: string): Obj {
    const file = this.file(namespace, name);
    if (!fs.existsSync(file)) throw new ArgoApiError(5, `cronworkflows.argoproj.io "${name}" not found`);
    return JSON.parse(fs.readFileSync(file, "utf8")) as Obj;
  }

  private write(namespace: string, cron: Obj): void {
    const file = this.file(namespace, str(asObj(cron.metadata).name));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeAtomicSync(file, JSON.stringify(cron));
  }

  /** The CronWorkflow as the API serves it: its active workflows read now (`runs`: the namespace's, by CronWorkflow, when read already). */
  private served(namespace: string, cron: Obj, runs = this.host.labelled(namespace, CRON_LABEL)): Obj {
    const { [PRIVATE]: _, ...out } = cron;
    const active = (runs.get(str(asObj(cron.metadata).name)) ?? []).filter((w) => !isFinal(str(asObj(w.status).phase)));
    const refs = active.map((w) => ({ kind: "Workflow", namespace, name: asObj(w.metadata).name, uid: asObj(w.metadata).uid, apiVersion: "argoproj.io/v1alpha1" }));
    return { ...out, status: { ...asObj(cron.status), ...(refs.length ? { active: refs } : {}) } };
  }

  /** A CronWorkflow as it would be stored: named, its schedules and workflow checked (InvalidArgument naming what is wrong). */
  private prepare(namespace: string, given: unknown, existing?: Obj): Obj {
    if (!given || typeof given !== "object" || Array.isArray(given)) throw new ArgoApiError(3, "cronWorkflow is required (the body is {namespace, cronWorkflow})");
    const c = given as Obj;
    if (c.kind !== undefined && c.kind !== "CronWorkflow") throw new ArgoApiError(3, `cronWorkflow.kind is ${JSON.stringify(c.kind)}, expected CronWorkflow`);
    const spec = asObj(c.spec);
    const cron: Obj = { apiVersion: "argoproj.io/v1alpha1", kind: "CronWorkflow", metadata: storedMeta("CronWorkflow", asObj(c.metadata), namespace, existing), spec };
    schedulesOf(cron);
    const policy = str(spec.concurrencyPolicy) || "Allow";
    if (!["Allow", "Forbid", "Replace"].includes(policy)) throw new ArgoApiError(3, `spec.concurrencyPolicy ${JSON.stringify(policy)}: expected Allow, Forbid or Replace`);
    for (const k of ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"]) {
      if (spec[k] !== undefined && spec[k] !== null && !(Number.isInteger(Number(spec[k])) && Number(spec[k]) >= 0)) throw new ArgoApiError(3, `spec.${k} must be a non-negative integer, got ${JSON.stringify(spec[k])}`);
    }
    if (!spec.workflowSpec || typeof spec.workflowSpec !== "object") throw new ArgoApiError(3, "spec.workflowSpec is required: the workflow the CronWorkflow runs");
    // The workflow it will run, checked now as a workflow of the namespace is at create.
    this.host.lint(namespace, { workflow: cronChild(cron, new Date()) });
    return cron;
  }

  create(namespace: string, body: Obj): Obj {
    const cron = this.prepare(namespace, body.cronWorkflow);
    const name = str(asObj(cron.metadata).name);
    if (fs.existsSync(this.file(namespace, name))) throw new ArgoApiError(6, `cronworkflows.argoproj.io "${name}" already exists`);
    this.write(namespace, cron);
    return this.served(namespace, cron);
  }

  lint(namespace: string, body: Obj): Obj {
    const { [PRIVATE]: _, ...cron } = this.prepare(namespace, body.cronWorkflow);
    return cron;
  }

  get(namespace: string, name: string): Obj {
    return this.served(namespace, this.read(namespace, name));
  }

  /** The CronWorkflows of `namespace`, or of every namespace for "". */
  list(namespace: string): Obj {
    if (!namespace) return { metadata: {}, items: namespacesIn(path.join(this.root, ".argo-templates", "cron")).flatMap((ns) => this.list(ns).items as Obj[]) };
    const dir = this.dir(namespace);
    const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];
    const runs = this.host.labelled(namespace, CRON_LABEL);
    return { metadata: {}, items: names.map((f) => this.served(namespace, this.read(namespace, f.slice(0, -".json".length)), runs)) };
  }

  /** PUT: the spec and metadata replaced; the status (last run, counts) kept. */
  update(namespace: string, name: string, body: Obj): Obj {
    const old = this.read(namespace, name);
    const given = asObj(body.cronWorkflow);
    const meta = asObj(given.metadata);
    if (meta.name !== undefined && meta.name !== name) throw new ArgoApiError(3, `cronWorkflow.metadata.name ${JSON.stringify(meta.name)} does not match the name in the path (${name})`);
    const cron = { ...this.prepare(namespace, { ...given, metadata: { ...meta, name } }, old), status: old.status, [PRIVATE]: old[PRIVATE] };
    this.write(namespace, cron);
    return this.served(namespace, cron);
  }

  /** Its workflows are kept (they are runs of the namespace, with their results), unlike Kubernetes' garbage collection of owned objects. */
  delete(namespace: string, name: string): Obj {
    this.read(namespace, name);
    fs.rmSync(this.file(namespace, name));
    return {};
  }

  /** `argo cron suspend|resume`: spec.suspend. */
  setSuspend(namespace: string, name: string, suspend: boolean): Obj {
    const cron = this.read(namespace, name);
    cron.spec = { ...asObj(cron.spec), suspend };
    this.write(namespace, cron);
    return this.served(namespace, cron);
  }

  /** `argo submit --from cronwf/<name>`: its workflow, now (generateName <name>-). */
  workflowNow(namespace: string, name: string): Obj {
    const wf = cronChild(this.read(namespace, name), new Date());
    const meta = asObj(wf.metadata);
    return { ...wf, metadata: { ...meta, name: undefined, generateName: `${name}-` } };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass over every CronWorkflow at `now` (one at a time: a pass still going is waited for). */
  tick(now = new Date()): Promise<void> {
    if (this.ticking) return this.ticking;
    const previous = this.lastTick;
    this.ticking = (async () => {
      const base = path.join(this.root, ".argo-templates", "cron");
      for (const ns of fs.existsSync(base) ? fs.readdirSync(base) : []) {
        const crons = fs.readdirSync(path.join(base, ns)).filter((x) => x.endsWith(".json"));
        // One look at the namespace's workflows a pass, whatever the number of CronWorkflows.
        const runs = crons.length ? this.host.labelled(ns, CRON_LABEL) : new Map<string, Obj[]>();
        for (const f of crons) {
          const name = f.slice(0, -".json".length);
          try {
            await this.runDue(ns, name, runs.get(name) ?? [], now, previous);
          } catch {
            // One CronWorkflow's trouble (deleted meanwhile, unreadable) must not stop the others: its conditions say what it can.
          }
        }
      }
    })().finally(() => {
      this.lastTick = now;
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Argo's cron operator for one CronWorkflow: count ended runs, keep the history, then start the one due, if any. */
  private async runDue(namespace: string, name: string, children: Obj[], now: Date, previous: Date | undefined): Promise<void> {
    const cron = this.read(namespace, name);
    const spec = asObj(cron.spec);
    const status = { ...asObj(cron.status) };
    const own = { handled: str(asObj(cron[PRIVATE]).handled), counted: (asObj(cron[PRIVATE]).counted as string[] | undefined) ?? [] };
    const ended = children.filter((w) => isFinal(str(asObj(w.status).phase)));
    for (const w of ended) {
      const wname = str(asObj(w.metadata).name);
      if (own.counted.includes(wname)) continue;
      own.counted.push(wname);
      if (str(asObj(w.status).phase) === "Succeeded") status.succeeded = Number(status.succeeded ?? 0) + 1;
      else status.failed = Number(status.failed ?? 0) + 1;
    }
    await this.keepHistory(namespace, spec, ended);
    own.counted = own.counted.filter((n) => children.some((w) => asObj(w.metadata).name === n));
    // A condition stays until the next run decided on (that run's own, if any, replacing it).
    let conditions = Array.isArray(status.conditions) ? (status.conditions as Obj[]) : [];
    const save = () => {
      const next = { ...status, conditions: conditions.length ? conditions : undefined };
      // Most passes change nothing: the file is written only when they do.
      if (JSON.stringify({ status: next, own }) === JSON.stringify({ status: asObj(cron.status), own: cron[PRIVATE] })) return;
      // Spec and metadata as they are now (an update may have come meanwhile); status and the record are this pass's.
      let fresh: Obj;
      try {
        fresh = this.read(namespace, name);
      } catch {
        return; // deleted meanwhile
      }
      const meta = asObj(fresh.metadata);
      const labels = status.phase === "Stopped" ? { ...asObj(meta.labels), "workflows.argoproj.io/cron-workflow-completed": "true" } : meta.labels;
      this.write(namespace, { ...fresh, metadata: { ...meta, ...(labels ? { labels } : {}) }, status: next, [PRIVATE]: own });
    };
    const condition = (type: string, message: string) => {
      conditions = [...conditions.filter((c) => c.type !== type), { type, status: "True", message, lastTransitionTime: k8sTime(now) }];
    };
    if (str(asObj(spec.stopStrategy).expression) && status.phase !== "Stopped") {
      try {
        if (evaluate(str(asObj(spec.stopStrategy).expression), { cronworkflow: scope(cron, status) }) === true) status.phase = "Stopped";
      } catch (e) {
        condition("SpecError", `failed to check CronWorkflow '${name}' stopping condition: ${(e as Error).message}`);
      }
    }
    if (spec.suspend === true || status.phase === "Stopped") return save();
    const schedules = schedulesOf(cron);
    const after = new Date(Math.max(Date.parse(own.handled) || 0, Date.parse(str(status.lastScheduledTime)) || 0, Date.parse(str(asObj(cron.metadata).creationTimestamp)) || 0));
    const due = dueRun(schedules, after, now);
    if (!due) return save();
    own.handled = due.toISOString();
    conditions = conditions.filter((c) => c.type !== "SubmissionError" && c.type !== "SpecError");
    // Due while no scheduler ran (the server was down): missed, run only within startingDeadlineSeconds, as Argo.
    const missed = previous === undefined || due <= previous;
    const deadline = spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null ? Number(spec.startingDeadlineSeconds) : undefined;
    if (missed && (deadline === undefined || (now.getTime() - due.getTime()) / 1000 > deadline)) return save();
    if (spec.when !== undefined && str(spec.when)) {
      let go: boolean;
      try {
        const vars: Vars = new Map(Object.entries(scope(cron, status)).map(([k, v]) => [`cronworkflow.${k}`, v === undefined ? "" : v]));
        go = evaluateWhen(substitute(str(spec.when), vars));
      } catch (e) {
        condition("SpecError", (e as Error).message);
        return save();
      }
      if (!go) return save();
    }
    const active = children.filter((w) => !isFinal(str(asObj(w.status).phase)));
    const policy = str(spec.concurrencyPolicy) || "Allow";
    if (policy === "Forbid" && active.length) return save();
    if (policy === "Replace") for (const w of active) await this.host.shutdown(namespace, str(asObj(w.metadata).name), {}, "Terminate").catch(() => undefined);
    try {
      await this.host.create(namespace, { workflow: cronChild(cron, due) });
    } catch (e) {
      // Created already (a second server on the same directory): not an error, as Argo's.
      if (!(e instanceof ArgoApiError && e.code === 6)) {
        condition("SubmissionError", `Failed to submit Workflow: ${(e as Error).message}`);
        return save();
      }
    }
    status.lastScheduledTime = k8sTime(due);
    status.phase = "Active";
    save();
  }

  /** Only the newest successfulJobsHistoryLimit (3) succeeded and failedJobsHistoryLimit (1) failed workflows are kept. */
  private async keepHistory(namespace: string, spec: Obj, ended: Obj[]): Promise<void> {
    const newestFirst = (a: Obj, b: Obj) => str(asObj(b.metadata).creationTimestamp).localeCompare(str(asObj(a.metadata).creationTimestamp)) || str(asObj(b.metadata).name).localeCompare(str(asObj(a.metadata).name));
    const limit = (k: string, d: number) => (spec[k] !== undefined && spec[k] !== null ? Number(spec[k]) : d);
    const ok = ended.filter((w) => str(asObj(w.status).phase) === "Succeeded").sort(newestFirst);
    const bad = ended.filter((w) => str(asObj(w.status).phase) !== "Succeeded").sort(newestFirst);
    for (const w of [...ok.slice(limit("successfulJobsHistoryLimit", 3)), ...bad.slice(limit("failedJobsHistoryLimit", 1))]) {
      await this.host.delete(namespace, str(asObj(w.metadata).name)).catch(() => undefined);
    }
  }
}

/** The schedules of a stored or given CronWorkflow; InvalidArgument when one does not parse. */
function schedulesOf(cron: Obj): CronSchedule[] {
  try {
    return cronSchedules(asObj(cron.spec));
  } catch (e) {
    if (e instanceof ArgoSpecError) throw new ArgoApiError(3, e.message);
    throw e;
  }
}

const goJsonMap = (m: unknown): string => (m && typeof m === "object" ? JSON.stringify(Object.fromEntries(Object.entries(m as Obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))) : "null");

/** `cronworkflow.*` of when and stopStrategy (Argo's expressionEnv). */
function scope(cron: Obj, status: Obj): Obj {
  const meta = asObj(cron.metadata);
  return {
    name: meta.name,
    namespace: meta.namespace,
    labels: asObj(meta.labels),
    annotations: asObj(meta.annotations),
    // As Go's json.Marshal writes a map: keys sorted, null for none.
    "labels.json": goJsonMap(meta.labels),
    "annotations.json": goJsonMap(meta.annotations),
    failed: Number(status.failed ?? 0),
    succeeded: Number(status.succeeded ?? 0),
    // A time (nil before the first run), as Argo hands it: `(now() - cronworkflow.lastScheduledTime).Seconds()`.
    lastScheduledTime: status.lastScheduledTime ? timeOf(str(status.lastScheduledTime)) : null,
  };
}
