// This machine as a Kubernetes node: a pod starts when its resource
// requests fit in what the running pods leave of the machine's CPUs,
// memory and pod count, as the scheduler places pods on a node; until then
// it is Pending with the scheduler's reason. Without it, a fan-out of 1,000
// pods would start 1,000 processes at once (Argo's own default parallelism
// is unlimited: the cluster's capacity is the limit). Requests are held,
// never enforced (limits are not, either): a pod uses what it uses.
//
// One capacity per engine process: the workflows of `dflow server` share
// the machine, as the pods of several workflows share a node.
import os from "node:os";
import { DflowConfigError } from "../../src/errors.js";
import { type ArgoTemplate, type Obj, asList, asObj } from "./manifest.js";

export interface PodRequest {
  /** CPUs (cores; 0.5 is `500m`). */
  cpu: number;
  /** Bytes. */
  memory: number;
}

/** A node's allocatable resources. */
export interface Capacity extends PodRequest {
  /** Pods at once (kubelet's maxPods). */
  pods: number;
}

// kubelet's default maxPods.
const MAX_PODS = 110;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity (`500m`, `1.5`, `512Mi`, `1G`, `1e9`) as a number; NaN when it is not one. */
export function quantity(text: unknown): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(String(text ?? "").trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? "";
  return n * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** One container's requests: its `resources.requests`, each defaulting to its limit, as the API server defaults them. */
function containerRequest(c: Obj, where: string): PodRequest {
  return resourceList(asObj(c.resources), where);
}

function resourceList(res: Obj, where: string): PodRequest {
  const requests = asObj(res.requests);
  const limits = asObj(res.limits);
  const one = (name: "cpu" | "memory"): number => {
    const v = requests[name] ?? limits[name];
    if (v === undefined || v === null || v === "") return 0;
    const n = quantity(v);
    if (!Number.isFinite(n) || n < 0) throw new DflowConfigError(`${where}.${requests[name] !== undefined ? "requests" : "limits"}.${name}: ${JSON.stringify(v)} is not a Kubernetes quantity (such as ${name === "cpu" ? "500m or 2" : "512Mi or 1G"})`);
    return n;
  };
  return { cpu: one("cpu"), memory: one("memory") };
}

/**
 * What a pod of this template asks of its node, as Kubernetes computes it:
 * its `podResources` (the template's, else the workflow's) when given, else
 * the sum of its containers (main and sidecars; a containerSet's all) or the
 * largest init container, whichever is more, resource by resource.
 */
export function podRequest(t: ArgoTemplate, workflowPodResources: unknown, where: string): PodRequest {
  const pod = t.podResources !== undefined ? asObj(t.podResources) : asObj(workflowPodResources);
  if (Object.keys(pod).length) {
    const r = resourceList(pod, `${where}.podResources`);
    if (r.cpu || r.memory) return r;
  }
  const main = t.containerSet !== undefined ? asList(asObj(t.containerSet).containers).map((c, i) => containerRequest(c, `${where}.containerSet.containers[${i}].resources`)) : [containerRequest(asObj(t.container ?? t.script), `${where}.${t.container !== undefined ? "container" : "script"}.resources`)];
  const apps = [...main, ...asList(t.sidecars).map((c, i) => containerRequest(c, `${where}.sidecars[${i}].resources`))];
  const inits = asList(t.initContainers).map((c, i) => containerRequest(c, `${where}.initContainers[${i}].resources`));
  const sum = (k: keyof PodRequest) => apps.reduce((a, r) => a + r[k], 0);
  const max = (k: keyof PodRequest) => Math.max(0, ...inits.map((r) => r[k]));
  return { cpu: Math.max(sum("cpu"), max("cpu")), memory: Math.max(sum("memory"), max("memory")) };
}

/** The scheduler's reasons a request does not fit in `free` ("Insufficient cpu", "Too many pods"). */
function shortfalls(req: PodRequest, free: Capacity): string[] {
  const out: string[] = [];
  if (req.cpu > free.cpu + 1e-9) out.push("Insufficient cpu");
  if (req.memory > free.memory) out.push("Insufficient memory");
  if (free.pods < 1) out.push("Too many pods");
  return out;
}

/** Argo's node message for a pod the scheduler cannot place (the pod's Unschedulable condition). */
function unschedulable(reasons: string[]): string {
  return `Unschedulable: 0/1 nodes are available: ${reasons.map((r) => `1 ${r}`).join(", ")}.`;
}

/**
 * A request as this machine can meet it: a pod that asks for more than the
 * whole machine (written for a larger cluster node) runs with all of it,
 * alone, rather than stay Pending for ever as on a node of this size.
 */
export function withinMachine(req: PodRequest, cap: Capacity = machine().total): PodRequest {
  return { cpu: Math.min(req.cpu, cap.cpu), memory: Math.min(req.memory, cap.memory) };
}

const ENV = "DFLOW_ARGO_CAPACITY";

/** This machine's size, or what DFLOW_ARGO_CAPACITY says ("cpu=8,memory=16Gi,pods=50"; any of the three). */
export function capacityFromEnv(text = process.env[ENV]): Capacity {
  const cap: Capacity = { cpu: os.availableParallelism(), memory: os.totalmem(), pods: MAX_PODS };
  if (!text?.trim()) return cap;
  for (const part of text.split(",")) {
    const [k, v, ...rest] = part.split("=").map((s) => s.trim());
    const n = quantity(v);
    if (rest.length || !["cpu", "memory", "pods"].includes(k!) || !Number.isFinite(n) || n <= 0 || (k === "pods" && !Number.isInteger(n))) {
      throw new DflowConfigError(`${ENV}=${JSON.stringify(text)}: ${JSON.stringify(part)} is not cpu=N, memory=Q or pods=N with a positive Kubernetes quantity (cpu=8,memory=16Gi,pods=50)`);
    }
    cap[k as keyof Capacity] = n;
  }
  return cap;
}

interface Waiter {
  req: PodRequest;
  daemon: boolean;
  admit: () => void;
  reported: string;
  waiting: (message: string) => void;
}

/** The node: what is free, and the pods waiting for room, admitted in the order they came as room frees. */
export class Node {
  readonly free: Capacity;
  private readonly queue: Waiter[] = [];
  /**
   * Admitted pods that end by themselves (not daemons). When there is none,
   * what holds the machine is daemons, which wait for the steps that use
   * them: a pod that waited for them would wait for ever, so it starts
   * beyond the machine's size instead.
   */
  private finite = 0;

  constructor(readonly total: Capacity) {
    this.free = { ...total };
  }

  /**
   * Resolves with the release of the pod's share once it fits; meanwhile
   * `waiting` is told the scheduler's reason (again when it changes).
   * Rejects with the signal's reason when aborted while waiting; a function
   * is asked for the signal only then (most pods fit at once: none is made).
   */
  admit(req: PodRequest, waiting: (message: string) => void, abort?: AbortSignal | (() => AbortSignal | undefined), o: { daemon?: boolean } = {}): Promise<() => void> {
    const daemon = o.daemon === true;
    const release = () => {
      this.free.cpu += req.cpu;
      this.free.memory += req.memory;
      this.free.pods += 1;
      if (!daemon) this.finite--;
      this.drain();
    };
    const take = () => {
      this.free.cpu -= req.cpu;
      this.free.memory -= req.memory;
      this.free.pods -= 1;
      if (!daemon) this.finite++;
      return once(release);
    };
    if (this.fits(req)) return Promise.resolve(take());
    const signal = typeof abort === "function" ? abort() : abort;
    return new Promise((resolve, reject) => {
      const w: Waiter = { req, daemon, reported: "", waiting, admit: () => resolve(take()) };
      this.queue.push(w);
      this.report(w);
      signal?.addEventListener(
        "abort",
        () => {
          const i = this.queue.indexOf(w);
          if (i < 0) return;
          this.queue.splice(i, 1);
          reject(signal.reason);
          this.drain();
        },
        { once: true },
      );
    });
  }

  /** Admits the waiting pods that fit now, oldest first; a larger one does not hold back smaller ones (as the scheduler). */
  private drain(): void {
    for (let i = 0; i < this.queue.length; ) {
      const w = this.queue[i]!;
      if (!this.fits(w.req)) {
        this.report(w);
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      w.admit();
    }
  }

  private fits(req: PodRequest): boolean {
    return this.finite === 0 || !shortfalls(req, this.free).length;
  }

  private report(w: Waiter): void {
    const message = unschedulable(shortfalls(w.req, this.free));
    if (message === w.reported) return;
    w.reported = message;
    w.waiting(message);
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}

let node: Node | undefined;
/** This process's node (read from the environment the first time a pod asks). */
export function machine(): Node {
  return (node ??= new Node(capacityFromEnv()));
}
