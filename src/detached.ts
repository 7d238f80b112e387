// What `dflow run` hears of the workflows a run starts (src/workflow.ts,
// src/argo/load.ts): each start and end is a line of DFLOW_CLI_REPORT, by
// which it prints the outcomes and `--detach` knows when to return; and a
// detached run's own output (what the engine prints), written to a
// temporary log until the workflow has a directory, moves into
// <wfdir>/log.txt, as dflow keeps it.
import fs from "node:fs";
import path from "node:path";

/** A line of the report: a workflow that started (`event`), or one that ended (`status`). */
export interface ReportLine {
  event?: "started";
  id: string;
  dir: string;
  status?: string;
  pid?: number;
}

/** The lines of a report file so far (none when it is not there yet). */
export function readReportLines(file: string): ReportLine[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ReportLine);
}

function report(line: ReportLine): void {
  const file = process.env.DFLOW_CLI_REPORT;
  if (file) fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** The workflow has its directory and runs. */
export function workflowStarted(id: string, wfdir: string): void {
  const detachedLog = process.env.DFLOW_DETACHED_LOG;
  if (detachedLog && fs.existsSync(detachedLog)) {
    fs.renameSync(detachedLog, path.join(wfdir, "log.txt"));
    delete process.env.DFLOW_DETACHED_LOG;
  }
  report({ event: "started", id, dir: wfdir, pid: process.pid });
}

/** The workflow ended ("Succeeded" or "Failed"). */
export function workflowEnded(id: string, status: string, wfdir: string): void {
  report({ id, status, dir: wfdir });
}
