// `dflow dpdisp submit <file.json>`: DPDispatcher's `dpdisp submit` for people migrating from it,
// without writing a workflow. The file is DPDispatcher's: {work_base, forward_common_files,
// backward_common_files, machine, resources, task_list}. Same hashes, same remote layout, same
// state file, so a submission started by Python DPDispatcher can be recovered here and back.
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { DispatcherContext } from "../../engine/dispatcher/context/index.js";
import type { SubmissionInput } from "../../engine/dispatcher/schema.js";
import { CliError } from "./command.js";

function hasRef(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasRef);
  if (v && typeof v === "object") return Object.entries(v).some(([k, x]) => k === "$ref" || hasRef(x));
  return false;
}

interface SubmitFlags {
  dryRun?: boolean;
  exitOnSubmit?: boolean;
  checkInterval: string;
  knownHosts?: string;
  strictHostKeyChecking: boolean;
  clean: boolean;
}

async function contextOf(input: SubmissionInput, flags: SubmitFlags): Promise<DispatcherContext> {
  const { LazyLocalContext, LocalContext } = await import("../../engine/dispatcher/context/local.js");
  const m = input.machine.serialized;
  const rp = m.remote_profile as Record<string, unknown>;
  if (m.context_type === "SSHContext") {
    const { sshTransportFor } = await import("../../engine/executors/clusters.js");
    const { SSHContext } = await import("../../engine/dispatcher/context/ssh-context.js");
    const transport = sshTransportFor(rp, {
      known_hosts: flags.knownHosts,
      strict_host_key_checking: flags.strictHostKeyChecking,
      log: (msg) => process.stderr.write(`dpdisp: ${msg}\n`),
    });
    return new SSHContext(transport, { remoteRoot: m.remote_root!, tarCompress: rp.tar_compress !== false });
  }
  if (m.context_type === "LocalContext") return new LocalContext(rp.symlink !== false);
  if (m.context_type === "LazyLocalContext") return new LazyLocalContext();
  throw new CliError(`machine.context_type ${m.context_type} is not supported here (SSHContext, LocalContext, LazyLocalContext are)`);
}

export function register(program: Command): void {
  const dpdisp = program.command("dpdisp").description("DPDispatcher-compatible commands (dpdisp submit)");
  dpdisp
    .command("submit")
    .description("run a DPDispatcher submission file: upload, submit, wait, download, clean")
    .argument("<file>", "JSON with work_base, machine, resources, task_list (DPDispatcher's format)")
    .option("--dry-run", "upload and stop before submitting")
    .option("--exit-on-submit", "return once the jobs are submitted; run again with the same file to re-attach")
    .option("--allow-ref", "accepted for compatibility; $ref includes are not supported")
    .option("--check-interval <seconds>", "seconds between status rounds", "30")
    .option("--known-hosts <file>", "known_hosts file for the host-key check (default ~/.ssh/known_hosts)")
    .option("--no-strict-host-key-checking", "accept any host key (not recommended)")
    .option("--no-clean", "keep the remote job directory after download")
    .action(async (file: string, flags: SubmitFlags) => {
      const { batchSystem } = await import("../../engine/dispatcher/batch/index.js");
      const { buildSubmission } = await import("../../engine/dispatcher/hash.js");
      const { DispatcherConfigError, normalizeSubmissionInput } = await import("../../engine/dispatcher/schema.js");
      const { newStats, Submission } = await import("../../engine/dispatcher/submission.js");
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
      }
      if (hasRef(raw)) throw new CliError(`${file} uses $ref includes, which dflow dpdisp does not resolve: inline the referenced JSON`);
      let input: SubmissionInput;
      try {
        input = normalizeSubmissionInput(raw);
      } catch (e) {
        if (e instanceof DispatcherConfigError) throw new CliError(`${file}:\n${e.message}`);
        throw e;
      }
      const interval = Number(flags.checkInterval);
      if (!(interval > 0)) throw new CliError(`--check-interval must be a positive number of seconds, got ${JSON.stringify(flags.checkInterval)}`);
      const cwd = process.cwd();
      const sub = buildSubmission(input, { cwd });
      const ctx = await contextOf(input, flags);
      const stats = newStats();
      const log = (msg: string) => process.stdout.write(`${msg}\n`);
      try {
        const res = await new Submission(sub, ctx, {
          batch: batchSystem(input.machine.serialized.batch_type),
          cwd,
          dryRun: flags.dryRun,
          exitOnSubmit: flags.exitOnSubmit,
          clean: flags.clean,
          checkInterval: interval,
          pollMode: "per-job",
          stats,
          log,
        }).run();
        if (flags.dryRun) log(`submission succeeded (dry run): ${sub.hash} uploaded to ${res.rr}`);
        else if (flags.exitOnSubmit && !res.jobs.every((j) => j.state === "finished")) log(`submission ${sub.hash} was submitted; run the same command again in ${cwd} to re-attach`);
        else log(`submission ${sub.hash} finished: outputs in ${path.resolve(cwd, input.work_base)}`);
      } catch (e) {
        throw new CliError((e as Error).message, 1);
      } finally {
        await ctx.close();
      }
    });
}
