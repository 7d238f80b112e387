// `dflow export <workflow.ts> [-o wf.yaml]`: run the workflow script as
// `dflow run` does, but with DFLOW_EXPORT set, so that each `wf.submit()`
// renders its workflow as Argo manifests (src/argo/export.ts) into a file
// instead of running it, and never returns (no step runs, nor the script's
// code after it). When the script is done, the manifests are written out as
// YAML: the Workflow(s), and the ConfigMap carrying the TypeScript OPs' code.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { CliError, command, dflowCommand } from "./command.js";

interface Exported {
  name: string;
  workflow: Record<string, unknown>;
  dependencies: Array<Record<string, unknown> & { metadata: { name: string } }>;
  /** Where the files it reads from this machine (upload_artifact) were put (engine/artifacts/publish.ts). */
  published?: { keys: string[]; local: string; s3?: { bucket: string; endpoint: string } } | null;
}

interface ExportCliOptions {
  output?: string;
  image?: string;
  nodeImage?: string;
  json?: boolean;
}

/** The ConfigMaps' file next to `-o wf.yaml`: wf.ops.yaml. */
export function opsFileOf(output: string): string {
  const ext = path.extname(output);
  return `${ext ? output.slice(0, -ext.length) : output}.ops${ext || ".yaml"}`;
}

/** Runs once the script is done: writes what its submit() calls rendered. `dflow` is how the user runs it, for the hint. */
function writeOut(report: string, o: ExportCliOptions, YAML: typeof import("yaml"), dflow: string): void {
  const lines = fs.existsSync(report) ? fs.readFileSync(report, "utf8").split("\n").filter(Boolean) : [];
  const exported = lines.map((l) => JSON.parse(l) as Exported);
  if (!exported.length) {
    process.stderr.write("dflow: the script submitted no workflow, so there is nothing to export (dflow export renders what wf.submit() is given)\n");
    process.exitCode = 1;
    return;
  }
  // Files of this machine the workflows read (upload_artifact), put in the repositories their pods read.
  for (const p of exported.map((e) => e.published).filter((x) => !!x)) {
    const keys = p.keys.join(", ");
    const where = [`${keys} in the local artifact repository ${p.local} (dflow run, dflow server)`, ...(p.s3 ? [`${keys} in the S3 bucket ${p.s3.bucket} at ${p.s3.endpoint} (DFLOW_S3_ENDPOINT)`] : [])];
    process.stderr.write(
      `dflow: put what the workflow reads from this machine (upload_artifact, the artifacts of reused steps) in its artifact repositories, under the keys it reads: ${where.join("; ")}${p.s3 ? "" : ". A cluster's repository needs them too: set dflow's DFLOW_S3_ENDPOINT (and DFLOW_S3_ACCESS_KEY, DFLOW_S3_SECRET_KEY, DFLOW_S3_BUCKET_NAME) to the cluster's default artifact repository and export again, or copy them there under the same keys"}\n`,
    );
  }
  const configMaps = new Map<string, Record<string, unknown>>();
  for (const e of exported) for (const d of e.dependencies) configMaps.set(d.metadata.name, d);
  // JSON: one object, or a Kubernetes List of them (what `kubectl create -f` reads as several). YAML
  // 1.1, as kubectl and argo read it: "yes" or "12:30" is quoted, not read back as a boolean or number.
  const docs = (xs: Array<Record<string, unknown>>) =>
    o.json ? `${JSON.stringify(xs.length === 1 ? xs[0] : { apiVersion: "v1", kind: "List", items: xs }, null, 2)}\n` : xs.map((x) => YAML.stringify(x, { lineWidth: 0, version: "1.1" })).join("---\n");
  if (!o.output) {
    // One stream, the ConfigMaps first: `dflow export wf.ts | kubectl create -f -` creates them in order.
    process.stdout.write(docs([...configMaps.values(), ...exported.map((e) => e.workflow)]));
    return;
  }
  fs.writeFileSync(o.output, docs(exported.map((e) => e.workflow)));
  const names = exported.map((e) => e.name).join(", ");
  if (!configMaps.size) {
    process.stderr.write(`dflow: wrote ${o.output} (workflow ${names}); submit it with: argo submit ${o.output}\n`);
    return;
  }
  // `argo submit` skips documents that are not Workflows: the ConfigMap is created with kubectl first,
  // applied server-side (a client-side apply keeps a copy in an annotation, limited to 256 kB).
  const ops = opsFileOf(o.output);
  const deps = [...configMaps.values()];
  const prefixed = (p: string) => deps.some((d) => String((d.metadata as { name?: string }).name).startsWith(p));
  const secret = deps.some((d) => d.kind === "Secret");
  // A Secret holds the SSH key or password of a DispatcherExecutor: the file is readable by its owner only
  // (`mode` makes a new file so from the start; chmod one that was there before).
  fs.writeFileSync(ops, docs(deps), secret ? { mode: 0o600 } : {});
  if (secret) fs.chmodSync(ops, 0o600);
  const what = [prefixed("dflow-ts-ops-") && "the code of its TypeScript OPs", prefixed("dflow-ts-dispatch-") && "dflow-ts's dispatcher for its DispatcherExecutor steps", secret && "a Secret with their SSH key or password: keep the file private", deps.some((d) => (d.metadata as { labels?: Record<string, string> } | undefined)?.labels?.["workflows.argoproj.io/configmap-type"] === "Cache") && "the memoization caches of its reused steps"].filter(Boolean).join(", ");
  // A local run needs the ConfigMap too, named explicitly: `dflow run wf.yaml` does not look beside the file.
  process.stderr.write(`dflow: wrote ${o.output} (workflow ${names}) and ${ops} (${what}); submit them with:\n  kubectl apply --server-side -f ${ops} && argo submit ${o.output}\nor run them here, without Kubernetes, with:\n  ${dflow} run ${o.output} -t ${ops}\n`);
}

export function register(program: Command): void {
  command(program, "export")
    .description("render the Argo Workflow(s) a workflow script submits, as YAML, without running any step")
    .argument("<workflow>", "workflow script (.ts or .js)")
    .argument("[args...]", "arguments passed to the script")
    .option("-o, --output <file>", "write the Workflow(s) to this file (default: everything to stdout); the ConfigMap with the TypeScript OPs' code goes next to it (wf.yaml: wf.ops.yaml)")
    .option("--image <image>", "image of the script templates that set none")
    .option("--node-image <image>", "image of the templates that run node (TypeScript OPs, dflow-ts's helper steps) and set none (default: node:<this node's major version>)")
    .option("--json", "JSON instead of YAML (several documents: a Kubernetes List)")
    .action(async (script: string, args: string[], o: ExportCliOptions) => {
      const { loadableScript } = await import("./run.js");
      const load = await loadableScript(script);
      if (typeof load === "number") {
        process.exitCode = load;
        return;
      }
      if (o.output && !fs.existsSync(path.dirname(path.resolve(o.output)))) throw new CliError(`cannot write ${o.output}: no such directory`);
      const YAML = (await import("yaml")).default;
      const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-export-")), "export.jsonl");
      const exportOptions = { ...(o.image ? { image: o.image } : {}), ...(o.nodeImage ? { node_image: o.nodeImage } : {}) };
      Object.assign(process.env, { DFLOW_EXPORT: report, DFLOW_EXPORT_OPTIONS: JSON.stringify(exportOptions) });
      // The script is done when nothing is left to do (its submit() never settles): "beforeExit",
      // which a failing script (process.exit(1)) never reaches. Its writes to stdout complete.
      // Named before the script runs: it may change the working directory the command is relative to.
      const dflow = dflowCommand();
      process.once("beforeExit", () => {
        if (!process.exitCode) writeOut(report, o, YAML, dflow);
      });
      process.once("exit", () => fs.rmSync(path.dirname(report), { recursive: true, force: true }));
      await (await import("./script-main.js")).runWorkflowScript(load, path.resolve(script), args);
    });
}
