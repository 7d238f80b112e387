// Running Argo Workflow manifests locally: load (manifest.ts), check
// (check.ts), run (run.ts), and read back as Argo nodes (nodes.ts) linked as Argo's
// graph (graph.ts).
export { ArgoSpecError, ArgoUnsupported, type ArgoWorkflow, loadArgo, loadArgoFile } from "./manifest.js";
export { type ArgoRestart, type ArgoRunResult, artifactRepository, checkMemoizable, resubmitArgoWorkflow, retryArgoWorkflow, runArgoWorkflow, templateOfRun } from "./run.js";
export { type ArgoStatus, nodeLog, readArgoStatus } from "./nodes.js";
export { argoGraph } from "./graph.js";
export { checkWorkflow } from "./check.js";
