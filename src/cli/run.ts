// `dflow run <workflow.ts>`: run a workflow script (TypeScript compiled to
// one ES module first, script-bundle.ts; or JavaScript) in this process, or
// in a detached child with --detach (script-main.ts); exit non-zero when the
// script fails or any workflow it submitted failed.
import { setTimeout as sleep } from "node:timers/promises";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CliError, argoOutcome, dflowCommand, nameValues } from "./command.js";
import { readReportLines } from "../detached.js";

export interface ScriptRun {
  script: string;
  args: string[];
  /** Extra environment for the script (e.g. DFLOW_RESUME_ID). */
  env?: Record<string, string>;
  cwd?: string;
  /** Run in the background, surviving the terminal; resolve once the workflow has started. */
  detach?: boolean;
  /** Show the progress of the workflows it starts while they run (`dflow watch`'s view). */
  watch?: boolean;
}

/** `--watch`: follow what the run reports (follow.ts) while `run` runs; one last look once it is done. */
async function watching<T>(report: string, run: () => Promise<T>): Promise<T> {
  const [{ followRun }, { workflowStore }, format] = await Promise.all([import("./follow.js"), import("./common.js"), import("./format.js")]);
  const follow = followRun(report, workflowStore(), format);
  try {
    return await run();
  } finally {
    await follow.stop();
  }
}

/**
 * Detached: the script runs in its own session with its output in a file
 * that the engine moves to <wfdir>/log.txt; we return once the workflow
 * reports it has started (or the script ended first).
 */
async function runDetached(run: ScriptRun, nodeArgs: string[], report: string, expected = 1): Promise<number> {
  const logFile = path.join(path.dirname(report), "detached.log");
  const out = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, nodeArgs, {
    cwd: run.cwd,
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, ...run.env, DFLOW_CLI_REPORT: report, DFLOW_DETACHED_LOG: logFile, DFLOW_CLI: dflowCommand(run.cwd) },
  });
  fs.closeSync(out);
  let exited: number | null = null;
  child.on("exit", (c) => (exited = c ?? 1));
  child.unref();
  for (let waited = 0; waited < 120_000; waited += 100) {
    // A file of several Argo Workflows starts them all; each is named once it has started.
    const started = readReportLines(report).filter((l) => l.event === "started");
    if (started.length >= expected || (started.length && exited !== null)) {
      for (const s of started) process.stdout.write(`Workflow ${s.id} is running in the background (process ID: ${child.pid}); its output goes to ${path.join(s.dir, "log.txt")}\nFollow it with: ${dflowCommand()} watch ${s.id}\n`);
      return 0;
    }
    if (exited !== null) {
      process.stderr.write(`dflow: the run ended (exit status ${exited}) before a workflow started; its output:\n${fs.readFileSync(logFile, "utf8")}`);
      return exited || 1;
    }
    await sleep(100);
  }
  throw new CliError(`no workflow started within 120 s; the script (process ${child.pid}) keeps running, its output is in ${logFile}`, 1);
}

/** Where the run reports the workflows it starts and ends (src/workflow.ts, src/argo/load.ts): one line each. */
function reportFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-run-")), "report.jsonl");
}

/**
 * Runs the script: detached, resolves with the exit status `dflow run` should
 * have once the workflow has started; else in this process, resolving with
 * null once the script's top level has run, the exit status being settled
 * when the process ends (the script's own, or 1 if a workflow it ran did not
 * succeed). A script that does not compile: its errors, and 1.
 */
export async function runScript(run: ScriptRun): Promise<number | null> {
  const file = path.resolve(run.script);
  const load = await loadableScript(run.script);
  if (typeof load === "number") return load;
  const report = reportFile();
  if (run.detach) return runDetached(run, [fileURLToPath(new URL("./script-main.js", import.meta.url)), load, file, ...run.args], report);
  // In this process: a second node would cost its start-up again (and load the CLI's modules
  // in vain). The workflows' outcomes are read back when the process ends, whatever ends it.
  if (run.cwd) process.chdir(run.cwd);
  Object.assign(process.env, run.env, { DFLOW_CLI_REPORT: report, DFLOW_CLI: dflowCommand(run.cwd) });
  process.once("exit", (code) => {
    const results = readReport(report);
    for (const r of results) fs.writeSync(2, `dflow: workflow ${r.id} ${r.status}\n`);
    if (code === 0 && results.some((r) => r.status !== "Succeeded")) process.exitCode = 1;
  });
  const main = async () => (await import("./script-main.js")).runWorkflowScript(load, file, run.args);
  await (run.watch ? watching(report, main) : main());
  return null;
}

/**
 * The module to load for a workflow script: the script compiled to one ES
 * module (TypeScript, script-bundle.ts), or the script itself (JavaScript).
 * A script that does not compile: its errors are printed, and 1 returned.
 */
export async function loadableScript(script: string): Promise<string | number> {
  const file = path.resolve(script);
  if (!fs.existsSync(file)) throw new CliError(`no such workflow script: ${script}`);
  if (!/\.(c|m)?tsx?$/.test(file)) return file;
  try {
    return await (await import("./script-bundle.js")).bundleScript(file);
  } catch (e) {
    // esbuild's errors carry file, line, column and the line itself: the user's mistake, one message each.
    if (Array.isArray((e as { errors?: unknown }).errors)) {
      process.stderr.write(`${(await import("./script-errors.js")).describeScriptError(e)}\n`);
      return 1;
    }
    throw new CliError(`cannot compile ${script}: ${(e as Error).message}`, 1);
  }
}

/** The workflows the script ran, as src/workflow.ts reported them; the report's folder is removed. */
function readReport(report: string): Array<{ id: string; status?: string }> {
  const lines = readReportLines(report);
  fs.rmSync(path.dirname(report), { recursive: true, force: true });
  return lines.filter((r) => !r.event);
}

/**
 * `dflow run wf.yaml` (or .json, a URL, `-` for stdin; several, as `argo
 * submit FILE...`): the Workflow of a manifest run in this process, or the
 * Workflows of several files or of a file of several, together (as `argo
 * submit` submits each); the exit status says whether every one succeeded.
 */
async function runManifest(inputs: string[], o: ManifestFlags & { watch?: boolean }): Promise<number> {
  const { manifests } = await loadManifest(inputs, o, true);
  const run = async () => {
    if (manifests.length === 1) return [await manifests[0].submit()];
    const { submitTogether } = await import("../argo/load.js");
    return submitTogether(manifests);
  };
  const outcome = (results: Awaited<ReturnType<typeof run>>) => Math.max(...results.map(argoOutcome));
  if (!o.watch) return outcome(await run());
  // The run says which workflows it starts (src/detached.ts), as a script's does.
  const report = reportFile();
  process.env.DFLOW_CLI_REPORT = report;
  try {
    return outcome(await watching(report, run));
  } finally {
    delete process.env.DFLOW_CLI_REPORT;
    fs.rmSync(path.dirname(report), { recursive: true, force: true });
  }
}

/** What `argo submit` takes for a manifest: a file (.yaml, .yml, .json), a URL, or `-` (stdin). */
const isUrl = (a: string) => /^https?:\/\//i.test(a);
const isManifest = (a: string) => a === "-" || isUrl(a) || /\.(ya?ml|json)$/i.test(a);

// A URL that does not answer: the run is not left waiting for ever.
const FETCH_TIMEOUT_MS = 60_000;

/** The texts of the manifests, each with where it came from (for messages). */
async function readManifests(inputs: string[]): Promise<Array<{ text: string; source: string }>> {
  return Promise.all(
    inputs.map(async (input) => {
      if (input === "-") return { text: fs.readFileSync(0, "utf8"), source: "stdin" };
      if (isUrl(input)) {
        let res: Response;
        try {
          res = await fetch(input, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
        } catch (e) {
          const cause = (e as { cause?: { code?: string; message?: string } }).cause;
          throw new CliError(`cannot fetch the workflow manifest ${input}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, 1);
        }
        if (!res.ok) throw new CliError(`cannot fetch the workflow manifest ${input}: HTTP ${res.status} ${res.statusText}`, 1);
        return { text: await res.text(), source: input };
      }
      if (!fs.existsSync(input)) throw new CliError(`no such workflow manifest: ${input}`);
      return { text: fs.readFileSync(input, "utf8"), source: input };
    }),
  );
}

/**
 * The manifests' Workflows loaded and checked; what is wrong with them (or
 * the -t files, -p values) is a line each. The documents nothing uses (a
 * CronWorkflow) are named once, with where they would run.
 */
async function loadManifest(inputs: string[], { template: templates, parameter: parameters, syncLimit }: ManifestFlags, tell = false) {
  const texts = await readManifests(inputs);
  const params = nameValues(parameters, "-p");
  const limits = Object.fromEntries(
    Object.entries(nameValues(syncLimit, "--sync-limit")).map(([key, v]) => {
      if (!/^[1-9]\d*$/.test(v)) throw new CliError(`--sync-limit ${key}=${v}: the limit must be a positive integer`);
      return [key, Number(v)];
    }),
  );
  const { fromYamlAll } = await import("../argo/load.js");
  const { DflowConfigError } = await import("../errors.js");
  try {
    const loaded = fromYamlAll(texts, { template_files: templates, parameters: parameters.length ? params : undefined, sync_limits: limits });
    for (const d of tell ? loaded.ignored : []) {
      const where = d.kind === "CronWorkflow" ? ": a CronWorkflow runs on its schedule in `dflow server` (`argo cron create`)" : "";
      process.stderr.write(`dflow: ${d.source}: ${d.kind} ${d.name} is not run (\`dflow run\` runs the Workflows of a file and uses its templates, ConfigMaps and Secrets, as \`argo submit\` does)${where}\n`);
    }
    return { ...loaded, texts };
  } catch (e) {
    // An invalid or unsupported manifest: one line, the user's to fix.
    if (e instanceof DflowConfigError) throw new CliError(e.message, 1);
    throw e;
  }
}

const collect = (v: string, list: string[]) => [...list, v];

/** The options of `dflow run` that an Argo manifest takes. */
interface ManifestFlags {
  template: string[];
  parameter: string[];
  syncLimit: string[];
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run a workflow script; exits non-zero when it or any workflow it submits fails")
    .argument("<workflow>", "workflow script (.ts or .js), or an Argo Workflow manifest (.yaml, .yml or .json; a URL; - for stdin)")
    .argument("[args...]", "arguments passed to the script; after a manifest, more manifests (as argo submit FILE...)")
    .option("-d, --detach", "run in the background (survives the terminal closing); follow with `npx dflow watch <id>`")
    .option("-w, --watch", "show the progress of the workflows it runs while they run (the view of `dflow watch`), as `argo submit --watch`")
    .option("-v, --verbose", "print the stack trace of an error the script does not catch (also DFLOW_DEBUG=1)")
    .option("-t, --template <file>", "Argo manifest: a file of (Cluster)WorkflowTemplates it references, or of ConfigMaps it mounts, as `dflow export` writes (repeatable)", collect, [])
    .option("-p, --parameter <name=value>", "Argo manifest: override a workflow argument (repeatable)", collect, [])
    .option("--sync-limit <[namespace/]key=limit>", "Argo manifest: the limit of a database semaphore, a row of Argo's sync_limit table (repeatable)", collect, [])
    .action(async (script: string, args: string[], o: ManifestFlags & { detach?: boolean; verbose?: boolean; watch?: boolean }) => {
      // A script being exported (`dflow export`) that starts `dflow run` itself: exporting runs no step.
      if (process.env.DFLOW_EXPORT) throw new CliError(`dflow run ${script} was started by a workflow script that \`dflow export\` is rendering; exporting runs no workflow`);
      if (o.watch && o.detach) throw new CliError("--watch and --detach go against each other: run with --detach, then follow it with `dflow watch <id>`");
      // JSON is YAML too: `argo submit` takes either, and several, a URL or stdin.
      if (isManifest(script)) {
        const inputs = [script, ...args];
        const other = args.find((a) => !isManifest(a));
        if (other !== undefined) throw new CliError(`${other}: after a manifest, each argument is a manifest too (.yaml, .yml, .json, a URL, or - for stdin), as \`argo submit FILE...\` takes them`);
        if (inputs.filter((a) => a === "-").length > 1) throw new CliError("- (stdin) can be given once");
        // Detached: this command again in a process of its own (without --detach), as for scripts.
        if (o.detach) {
          // Checked here first: a mistake is one line now, not the background run's output.
          const { manifests, texts } = await loadManifest(inputs, o, true);
          // stdin is read once: the background run reads what it said from a file.
          const again = inputs.map((a, i) => {
            if (a !== "-") return isUrl(a) ? a : path.resolve(a);
            const saved = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-stdin-")), "workflow.yaml");
            fs.writeFileSync(saved, texts[i].text);
            return saved;
          });
          const flags = [...o.template.flatMap((t) => ["-t", path.resolve(t)]), ...o.parameter.flatMap((p) => ["-p", p]), ...o.syncLimit.flatMap((l) => ["--sync-limit", l])];
          process.exitCode = await runDetached({ script, args: [] }, [fileURLToPath(new URL("../cli.js", import.meta.url)), "run", ...again, ...flags], reportFile(), manifests.length);
          return;
        }
        process.exitCode = await runManifest(inputs, o);
        return;
      }
      const code = await runScript({ script, args, detach: o.detach, watch: o.watch, env: o.verbose ? { DFLOW_DEBUG: "1" } : undefined });
      if (code !== null) process.exitCode = code;
    });
}
