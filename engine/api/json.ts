// The JSON shapes of the workflow API: what `dflow list --json` and `dflow
// get --json` print, what /api/ answers and the `dflow ui` page reads. One
// declaration for the engine that makes them and the page that reads them:
// this module imports nothing, so the page's build (browser code, no Node
// types) can import its types without reaching into Node code.

/** A workflow's or a step's phase (Argo's names). */
export type Phase = "Pending" | "Running" | "Succeeded" | "Failed" | "Error" | "Skipped" | "Omitted" | (string & {});

/** What a workflow and a step both say of their run. */
interface RunJson {
  id: string;
  /** ISO times. */
  started: string | null;
  finished: string | null;
  /** Seconds. */
  duration: number | null;
  /** "current/total": Pod steps succeeded (of a workflow, or below a Steps/DAG step), or the OP's own progress. */
  progress: string | null;
  message: string | null;
  dir: string;
}

/** A workflow's summary: `dflow list --json`, GET /api/workflows. */
export interface WorkflowJson extends RunJson {
  status: Phase;
  type: string | null;
  pid: number | null;
  /** The engine running it is alive (null: not known). */
  engine_alive: boolean | null;
  suspended: boolean;
}

/** A step in the tree of `dflow get --json` and GET /api/workflows/<id>. */
export interface StepNodeJson extends RunJson {
  name: string;
  key: string | null;
  type: "Pod" | "Steps" | "DAG" | (string & {});
  phase: Phase;
  /** "i-j" in a Steps template, "i" in a DAG, "-k" appended for a fan-out item, "?" for an orphan. */
  order: string;
  /** The fan-out index, or null. */
  item: number | null;
  children: StepNodeJson[];
}

/** A step as a `steps` event carries it: a node without its place in the tree; `progress` only for a Pod step. */
export type StepPatchJson = Omit<StepNodeJson, "children" | "order" | "item" | "progress"> & { progress?: string | null };

/** The server-sent events of GET /api/workflows/<id>/events (and /api/events for the list). */
export type WorkflowEventJson =
  | { type: "hello"; data: Record<string, never> }
  | { type: "workflow"; data: WorkflowJson }
  | { type: "steps"; data: { steps: StepPatchJson[] } }
  | { type: "tree"; data: { id: string } }
  | { type: "log"; data: { step: string } }
  | { type: "removed"; data: { id: string } };

/** A step of a Steps or DAG template in the workflow's recorded graph (<wfdir>/.engine/graph.json). */
export interface GraphStep {
  name: string;
  template: string;
  /** The template's kind: Pod, Steps or DAG. */
  type: "Pod" | "Steps" | "DAG";
  /** A fan-out (with_param, with_sequence, slices over items). */
  fanout: boolean;
}

export type GraphTemplate = { type: "Steps"; groups: GraphStep[][] } | { type: "DAG"; tasks: Array<GraphStep & { dependencies: string[] }> };

export interface WorkflowGraph {
  entrypoint: string;
  templates: Record<string, GraphTemplate>;
}

/** GET /api/workflows/<id>: the summary, the step tree and the graph. */
export interface WorkflowDetailJson extends WorkflowJson {
  steps: StepNodeJson[];
  graph: WorkflowGraph | null;
}

export interface IOJson {
  parameters: Record<string, { value: unknown; type: string | null }>;
  /** Artifact name -> where it is: `path` relative to the workflow directory (for /files), `target` the link's own target. */
  artifacts: Record<string, { path: string; target: string | null }>;
}

export interface AttemptJson {
  attempt: number;
  message: string | null;
  /** Relative to the workflow directory, when the attempt kept a log. */
  log: string | null;
}

/** Where a remote step's job ran (<stepdir>/cluster). */
export interface ClusterJson {
  /** The scheduler: Slurm, PBS, LSF, Shell... */
  batch_type: string;
  /** How files and commands reach it: SSHContext, LocalContext, LazyLocalContext. */
  context: string;
  /** user@host:port for SSH, "localhost" otherwise. */
  host: string;
  /** The directory the job runs in on that host, when known. */
  remote_dir: string | null;
}

/** GET /api/workflows/<id>/steps/<step id>: everything about one step. */
export interface StepDetailJson extends Omit<StepNodeJson, "children"> {
  inputs: IOJson;
  outputs: IOJson;
  /** Earlier attempts (retries): their reason and log. */
  attempts: AttemptJson[];
  /** Relative to the workflow directory: log.txt of the step (Pod steps). */
  log: string | null;
  /** Relative to the workflow directory: the script the step ran. */
  script: string | null;
  pid: number | null;
  /** Cluster job ids of a remote step, oldest first. */
  job_ids: string[];
  /** Where a remote step's job ran (scheduler, host, remote directory); null for a local step. */
  cluster: ClusterJson | null;
  /** The name of the template the step ran, from the workflow's graph (null when not recorded). */
  template: string | null;
}

/** GET /api/workflows/<id>/steps/<step id>/log?offset=N. */
export interface LogChunkJson {
  text: string;
  /** Where the next read starts (bytes). */
  offset: number;
  size: number;
  /** The step has ended: nothing more will be written. */
  done: boolean;
}

/** GET /api/workflows/<id>/files/<path> of a directory. */
export interface DirListingJson {
  kind: "dir";
  name: string;
  entries: Array<{ name: string; type: "file" | "dir" | "link" | "other"; size: number | null }>;
}

/** What `dflow report` puts into its page (window.__DFLOW_REPORT__). */
export interface ReportJson {
  workflow: WorkflowDetailJson;
  steps: Record<string, StepDetailJson>;
  logs: Record<string, string>;
  generated: string;
  /** Steps left out of `steps`/`logs` because the workflow is large (a step whose log is empty is not counted). */
  omitted: { details: number; logs: number };
}
