// The shapes of the JSON API the page reads (`dflow list --json`, `dflow get --json`,
// the step detail and the log chunks): see engine/api/read.ts and engine/api/workflows.ts.
// Kept here rather than imported so that the page's build never reaches into Node code.

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed" | "Error" | "Skipped" | "Omitted" | string;

export interface WorkflowJson {
  id: string;
  status: Phase;
  type: string | null;
  started: string | null;
  finished: string | null;
  /** Seconds. */
  duration: number | null;
  /** "current/total". */
  progress: string | null;
  message: string | null;
  dir: string;
  pid: number | null;
  engine_alive: boolean;
  suspended: boolean;
}

export interface StepNode {
  name: string;
  id: string;
  key: string | null;
  type: "Pod" | "Steps" | "DAG" | string;
  phase: Phase;
  /** "i-j" in a Steps template, "i" in a DAG, "-k" appended for a fan-out item, "?" for an orphan. */
  order: string;
  /** The fan-out index, or null. */
  item: number | null;
  started: string | null;
  finished: string | null;
  duration: number | null;
  progress: string | null;
  message: string | null;
  dir: string;
  children: StepNode[];
}

/** A `steps` event's patch: a node without children (order and item may be missing). */
export type StepPatch = Partial<Omit<StepNode, "children">> & { id: string };

export interface GraphStep {
  name: string;
  template: string;
  type: "Pod" | "Steps" | "DAG" | string;
  fanout: boolean;
}

export type GraphTemplate = { type: "Steps"; groups: GraphStep[][] } | { type: "DAG"; tasks: Array<GraphStep & { dependencies: string[] }> };

export interface WorkflowGraph {
  entrypoint: string;
  templates: Record<string, GraphTemplate>;
}

export interface WorkflowDetail extends WorkflowJson {
  steps: StepNode[];
  graph: WorkflowGraph | null;
}

export interface ParamValue {
  value: unknown;
  type: string | null;
}

export interface ArtifactRef {
  /** Relative to the workflow directory. */
  path: string | null;
  target?: string | null;
}

export interface IO {
  parameters: Record<string, ParamValue>;
  artifacts: Record<string, ArtifactRef>;
}

export interface Attempt {
  attempt: number;
  message: string | null;
  /** Relative to the workflow directory. */
  log: string | null;
}

export interface StepDetail extends Omit<StepNode, "children"> {
  children?: StepNode[];
  inputs?: IO;
  outputs?: IO;
  attempts?: Attempt[];
  log?: string | null;
  script?: string | null;
  pid?: number | null;
  job_ids?: string[];
  /** Where a remote step's job ran. */
  cluster?: { batch_type: string; context: string; host: string; remote_dir: string | null } | null;
  /** The template the step ran (from the workflow's recorded graph). */
  template?: string | null;
}

export interface LogChunk {
  text: string;
  /** The offset to ask for next. */
  offset: number;
  size: number;
  done: boolean;
}

export interface DirEntry {
  name: string;
  type: "file" | "dir" | "link" | "other" | string;
  size: number | null;
}

export interface DirListing {
  kind: "dir";
  name: string;
  entries: DirEntry[];
}

/** What `dflow report` inlines as window.__DFLOW_REPORT__. */
export interface ReportData {
  workflow: WorkflowDetail;
  steps: Record<string, StepDetail>;
  logs: Record<string, string>;
  generated: string;
  omitted?: { details: number; logs: number };
}
