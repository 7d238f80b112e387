// What the UI tests share: a user's project folder (its scripts import
// dflow-ts) with workflows that `dflow run` made in it, and a workflow whose
// only step waits for the file $DFLOW_TEST_GATE, so a test decides when it ends.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type ResultPromise, execa } from "execa";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const CLI = path.join(ROOT, "dist", "src", "cli.js");

export const GATED = `import { ShellOPTemplate, Step, Workflow } from "dflow-ts";
const t = new ShellOPTemplate({ name: "gated", image: "alpine", script: "echo waiting for the gate\\nwhile [ ! -e \\"$DFLOW_TEST_GATE\\" ]; do sleep 0.05; done\\necho released" });
const wf = new Workflow({ name: "gated" });
wf.add(new Step({ name: "gated", template: t, key: "gated-key" }));
await wf.submit();
`;

/** A fresh project folder (realpath) with node_modules/dflow-ts and gated.ts. */
export function makeUiProject(prefix: string): string {
  const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  fs.mkdirSync(path.join(work, "node_modules"));
  fs.symlinkSync(ROOT, path.join(work, "node_modules", "dflow-ts"));
  fs.writeFileSync(path.join(work, "gated.ts"), GATED);
  return work;
}

/** `dflow run <file>` in `work` (its work directory too); the id of the workflow it ran. */
export async function runIn(work: string, file: string, extra: Record<string, string> = {}): Promise<string> {
  const r = await execa(process.execPath, [CLI, "run", file], { cwd: work, env: { DFLOW_DEBUG_WORKDIR: work, ...extra }, reject: false, all: true });
  const id = /ID: ([a-z0-9-]+)/.exec(r.all ?? "")?.[1];
  if (!id) throw new Error(`no workflow id in the output of ${file}:\n${r.all}`);
  return id;
}

/** Start gated.ts in `work` (its step waits for `gate`); resolves once the engine has named the workflow. */
export async function startGated(work: string, gate: string): Promise<{ child: ResultPromise<{ all: true; reject: false }>; id: string }> {
  const child = execa(process.execPath, [CLI, "run", "gated.ts"], { cwd: work, env: { DFLOW_DEBUG_WORKDIR: work, DFLOW_TEST_GATE: gate }, reject: false, all: true });
  const id = await new Promise<string>((resolve, reject) => {
    child.all.on("data", (d: Buffer) => {
      const m = /ID: ([a-z0-9-]+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
    void child.then((r) => reject(new Error(`the run ended before it named its workflow: ${String(r.all)}`)));
  });
  return { child, id };
}

export interface DflowServer {
  child: ResultPromise<{ all: true; reject: false }>;
  /** http://host:port/ */
  base: string;
  token: string;
  /** What the server printed before it was ready. */
  banner: string;
  stop(): Promise<void>;
}

/** `dflow server --port 0` in `work` (its work directory too); resolves once it printed where it listens. */
export async function startDflowServer(work: string, env: Record<string, string> = {}): Promise<DflowServer> {
  const child = execa(process.execPath, [CLI, "server", "--port", "0"], { cwd: work, env: { DFLOW_DEBUG_WORKDIR: work, ...env }, reject: false, all: true });
  const banner = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.all.on("data", (d: Buffer) => {
      text += d.toString();
      if (/dflow's Python client: .*\n/.test(text)) resolve(text);
    });
    void child.then((r) => reject(new Error(`dflow server ended: ${String(r.all)}`)));
  });
  const m = /ARGO_SERVER=([\d.]+:\d+) ARGO_HTTP1=true ARGO_SECURE=false ARGO_TOKEN='Bearer ([^']+)'/.exec(banner)!;
  return {
    child,
    base: `http://${m[1]}/`,
    token: m[2]!,
    banner,
    stop: async () => {
      child.kill("SIGTERM");
      await child;
    },
  };
}
