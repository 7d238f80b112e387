// The shapes of the JSON API the page reads: declared once, in
// engine/api/json.ts (which imports nothing, so the page's build never
// reaches into Node code), for the engine that makes them and this page.
import type {
  AttemptJson,
  DirListingJson,
  IOJson,
  LogChunkJson,
  ReportJson,
  StepDetailJson,
  StepNodeJson,
  StepPatchJson,
  WorkflowDetailJson,
} from "../../../../engine/api/json.js";

export type { GraphStep, GraphTemplate, Phase, WorkflowEventJson, WorkflowGraph, WorkflowJson } from "../../../../engine/api/json.js";

export type StepNode = StepNodeJson;
export type StepPatch = StepPatchJson;
export type WorkflowDetail = WorkflowDetailJson;
export type IO = IOJson;
export type ParamValue = IOJson["parameters"][string];
export type ArtifactRef = IOJson["artifacts"][string];
export type Attempt = AttemptJson;
export type StepDetail = StepDetailJson;
export type LogChunk = LogChunkJson;
export type DirListing = DirListingJson;
export type DirEntry = DirListingJson["entries"][number];
export type ReportData = ReportJson;
