// CronWorkflows, as Argo's workflow/cron makes them: when a CronWorkflow's
// workflows are due (its schedules: five-field cron expressions, robfig's
// descriptors such as @hourly and @every <duration>, in spec.timezone or a
// CRON_TZ= prefix), and the Workflow each run is (named <cron>-<unix time>,
// labelled with the CronWorkflow's name, its scheduled time annotated). The
// server's scheduler (engine/api/argo-cron.ts) acts on them.
import { Cron } from "croner";
import { durationSeconds } from "../../src/options.js";
import { ArgoSpecError, type Obj, asObj } from "./manifest.js";

export const CRON_LABEL = "workflows.argoproj.io/cron-workflow";
export const SCHEDULED_TIME = "workflows.argoproj.io/scheduled-time";
/** The labels of a CronWorkflow its workflows carry too (Argo's labelsToPropagate). */
const PROPAGATED = ["workflows.argoproj.io/creator", "workflows.argoproj.io/creator-email", "workflows.argoproj.io/creator-preferred-username"];

export interface CronSchedule {
  text: string;
  /** The first run strictly after `after`, or null when there is none. */
  next(after: Date): Date | null;
}

/** The schedules of a CronWorkflow's spec (`schedules`, or Argo 3's single `schedule`); refused in one line when one does not parse. */
export function cronSchedules(spec: Obj, where = "spec.schedules"): CronSchedule[] {
  const texts = Array.isArray(spec.schedules) ? (spec.schedules as unknown[]).map(String) : typeof spec.schedule === "string" && spec.schedule ? [spec.schedule] : [];
  if (!texts.length) throw new ArgoSpecError(`invalid spec: ${where} must hold at least one schedule (a cron expression such as "0 2 * * *")`);
  return texts.map((text, i) => {
    try {
      return schedule(text, typeof spec.timezone === "string" && spec.timezone ? spec.timezone : undefined);
    } catch (e) {
      throw new ArgoSpecError(`invalid spec: ${where}[${i}] ${JSON.stringify(text)}: ${(e as Error).message}`);
    }
  });
}

function schedule(text: string, zone: string | undefined): CronSchedule {
  let pattern = text.trim();
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(pattern);
  if (tz) {
    zone = tz[1];
    pattern = pattern.slice(tz[0].length);
  }
  const every = /^@every\s+(\S+)$/.exec(pattern);
  if (every) {
    const secs = durationSeconds(every[1]!);
    if (!(secs >= 1)) throw new Error("@every needs a duration of at least 1s");
    // robfig's ConstantDelaySchedule: whole seconds after the previous run.
    return { text, next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + Math.round(secs) * 1000) };
  }
  if (zone) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
    } catch {
      throw new Error(`unknown time zone ${JSON.stringify(zone)}`);
    }
  }
  if (pattern.startsWith("@")) pattern = pattern === "@midnight" ? "@daily" : pattern;
  else if (pattern.split(/\s+/).length !== 5) throw new Error(`expected 5 fields (minute hour day-of-month month day-of-week), got ${pattern.split(/\s+/).length}`);
  // Day of month and day of week: either matches when both are restricted, as in standard cron.
  const cron = new Cron(pattern, { timezone: zone, paused: true, mode: "5-part", domAndDow: false });
  return { text, next: (after) => cron.nextRun(after) };
}

/**
 * The latest run of `schedules` after `after` and at or before `now`, if any
 * (the one to start now: earlier ones missed meanwhile are not run, as Argo
 * runs only the latest missed one).
 */
export function dueRun(schedules: CronSchedule[], after: Date, now: Date): Date | undefined {
  let due: Date | undefined;
  for (const s of schedules) {
    let t = s.next(after);
    if (!t || t > now) continue;
    // Skip ahead to the latest one at or before now (at most a few thousand steps for a minute schedule missed for days).
    for (let guard = 0; guard < 100_000; guard++) {
      const n = s.next(t);
      if (!n || n > now) break;
      t = n;
    }
    if (!due || t > due) due = t;
  }
  return due;
}

/** The Workflow a CronWorkflow runs at `scheduled` (Argo's ConvertCronWorkflowToWorkflowWithProperties). */
export function cronChild(cron: Obj, scheduled: Date): Obj {
  const meta = asObj(cron.metadata);
  const spec = asObj(cron.spec);
  const wm = asObj(spec.workflowMetadata);
  const labels = asObj(meta.labels);
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name: `${String(meta.name)}-${Math.floor(scheduled.getTime() / 1000)}`,
      labels: { ...Object.fromEntries(PROPAGATED.filter((k) => labels[k] !== undefined).map((k) => [k, labels[k]])), [CRON_LABEL]: meta.name, ...asObj(wm.labels) },
      annotations: { [SCHEDULED_TIME]: scheduled.toISOString().replace(/\.\d{3}Z$/, "Z"), ...asObj(wm.annotations) },
      ownerReferences: [{ apiVersion: "argoproj.io/v1alpha1", kind: "CronWorkflow", name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: asObj(spec.workflowSpec),
  };
}
