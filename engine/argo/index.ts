// Running Argo Workflow manifests locally: load (manifest.ts), check
// (check.ts), run (run.ts), and read back as Argo nodes (nodes.ts).
import fs from "node:fs";
import { type ArgoWorkflow, loadWorkflow, parseManifests, templateLibrary } from "./manifest.js";

export { ArgoSpecError, ArgoUnsupported, type ArgoWorkflow } from "./manifest.js";
export { type ArgoRunResult, artifactRepository, runArgoWorkflow } from "./run.js";
export { type ArgoStatus, nodeLog, readArgoStatus } from "./nodes.js";
export { checkWorkflow } from "./check.js";

/**
 * The Workflow of a manifest text, with the (Cluster)WorkflowTemplates of
 * `support` texts (and of the manifest itself) available to
 * workflowTemplateRef / templateRef.
 */
export function loadArgo(text: string, source: string, support: Array<{ text: string; source: string }> = []): ArgoWorkflow {
  const docs = parseManifests(text, source);
  const all = [...support.flatMap((s) => parseManifests(s.text, s.source)), ...docs];
  return loadWorkflow(docs, templateLibrary(all), source);
}

export function loadArgoFile(file: string, supportFiles: string[] = []): ArgoWorkflow {
  return loadArgo(
    fs.readFileSync(file, "utf8"),
    file,
    supportFiles.map((f) => ({ text: fs.readFileSync(f, "utf8"), source: f })),
  );
}
