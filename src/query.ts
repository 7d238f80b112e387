// Step records as read back from disk (ArgoStep, query_step's filter): the
// engine's read model (engine/api/steps-on-disk.ts), which Workflow.query_step
// and users' scripts take from here.
export * from "../engine/api/steps-on-disk.js";
