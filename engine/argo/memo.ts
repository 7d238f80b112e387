// Memoization caches of the Argo runner: what Argo keeps in a ConfigMap of
// type Cache (one entry per memoize key: the node's outputs) is a file here,
// .argo-memo/<configMap name>/<sha256 of the key>.json. Entries are written by
// runs whose memoized node succeeded, and by clients that prepare a cache the
// way they would on Kubernetes: dflow's Python client creates one ConfigMap
// per reused step (`submit(reuse_step=...)`) through the Kubernetes API,
// which `dflow server` takes in (engine/api/argo.ts).
import crypto from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { writeAtomic } from "../store/fsx.js";
import type { ArgoNode, NodeArtifact, NodeParam } from "./store.js";
import { type Obj, asList, asObj } from "./manifest.js";

/** A cache entry: when it was made, and the outputs a hit gives. */
export interface MemoEntry {
  at: number;
  outputs: NonNullable<ArgoNode["outputs"]>;
}

export function memoFile(root: string, cacheName: string, key: string): string {
  return path.join(root, ".argo-memo", cacheName.replace(/[^\w.-]/g, "_"), crypto.createHash("sha256").update(key).digest("hex") + ".json");
}

export async function writeMemo(root: string, cacheName: string, key: string, entry: MemoEntry): Promise<void> {
  const file = memoFile(root, cacheName, key);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeAtomic(file, JSON.stringify(entry));
}

/**
 * An entry as Argo stores it in a Cache ConfigMap ({nodeID, outputs, creationTimestamp, ...},
 * outputs with Argo's artifact locations), as this runner keeps it. Only key-only `s3`
 * locations are artifacts of the local repository; another location is refused.
 */
export function fromArgoEntry(text: string, where: string): MemoEntry {
  let e: Obj;
  try {
    e = asObj(JSON.parse(text));
  } catch {
    throw new Error(`${where}: not a memoization entry (JSON with nodeID and outputs)`);
  }
  const outputs = asObj(e.outputs);
  const parameters: NodeParam[] = asList(outputs.parameters).map((p) => ({
    name: String(p.name),
    ...(p.value !== undefined && p.value !== null ? { value: String(p.value) } : {}),
    ...(typeof p.description === "string" ? { description: p.description } : {}),
  }));
  const artifacts: NodeArtifact[] = asList(outputs.artifacts).map((a) => {
    const key = asObj(a.s3).key;
    if (typeof key !== "string" || !key) throw new Error(`${where}: output artifact ${String(a.name)} has no s3 key; only artifacts of the local repository (key-only s3) can be reused here`);
    return { name: String(a.name), ...(a.path !== undefined ? { path: String(a.path) } : {}), key };
  });
  const at = Date.parse(String(e.creationTimestamp ?? ""));
  return {
    at: Number.isFinite(at) ? at : Date.now(),
    outputs: { ...(parameters.length ? { parameters } : {}), ...(artifacts.length ? { artifacts } : {}), ...(outputs.exitCode !== undefined ? { exitCode: String(outputs.exitCode) } : {}) },
  };
}
