// The Argo Server API's SyncService (`argo sync create|get|update|delete`):
// the limits of semaphores.
// - DATABASE: a row of Argo's sync_limit table, `<namespace>/<key>` -> limit,
//   kept in <root>/.argo-templates/sync-limits.json and handed to every
//   workflow created here (their database semaphores' sizes);
// - CONFIGMAP: a key of a ConfigMap of the namespace (the ConfigMaps the
//   namespace's workflows take semaphore limits from), as Argo edits it.
// A limit changed while workflows hold the semaphore applies to those that
// take it next (engine/argo/sync.ts).
import fs from "node:fs";
import path from "node:path";
import { writeAtomicSync } from "../store/fsx.js";
import { ArgoApiError, type Obj, asObj, checkName } from "./argo-shapes.js";
import type { TemplateStore } from "./argo-templates.js";

type SyncType = "CONFIGMAP" | "DATABASE";

/** The request's type: a name or gRPC-gateway's number of sync.SyncConfigType; CONFIGMAP when absent, as Argo's default. */
function syncType(v: unknown): SyncType {
  if (v === undefined || v === null || v === "" || v === "CONFIGMAP" || v === 0 || v === "0") return "CONFIGMAP";
  if (v === "DATABASE" || v === 1 || v === "1") return "DATABASE";
  throw new ArgoApiError(3, `unsupported sync config type: ${String(v)}`);
}

/** A limit to store: Argo's message when it is not above zero. */
function positive(v: unknown): number {
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0) throw new ArgoApiError(3, "limit must be greater than zero");
  return n;
}

export interface SyncLimitRequest {
  type?: unknown;
  key?: unknown;
  cmName?: unknown;
  limit?: unknown;
}

export class SyncLimits {
  constructor(
    readonly root: string,
    private readonly templates: TemplateStore,
  ) {}

  private file(): string {
    return path.join(this.root, ".argo-templates", "sync-limits.json");
  }

  /** The database's limit table, `<namespace>/<key>` -> limit. */
  table(): Map<string, number> {
    try {
      return new Map(Object.entries(JSON.parse(fs.readFileSync(this.file(), "utf8")) as Record<string, number>));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw e;
    }
  }

  private write(table: Map<string, number>): void {
    fs.mkdirSync(path.dirname(this.file()), { recursive: true });
    writeAtomicSync(this.file(), JSON.stringify(Object.fromEntries([...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))));
  }

  create(namespace: string, req: SyncLimitRequest): Obj {
    const limit = positive(req.limit);
    const type = syncType(req.type);
    const key = this.key(req);
    if (type === "DATABASE") return this.putRow(namespace, key, limit, true);
    const cmName = this.cmName(req);
    const cm = this.configMap(namespace, cmName, false);
    if (cm && asObj(cm.data)[key] !== undefined) throw new ArgoApiError(6, "sync limit cannot be created as it already exists");
    return this.putKey(namespace, cmName, key, limit, cm);
  }

  get(namespace: string, req: SyncLimitRequest): Obj {
    const type = syncType(req.type);
    const key = this.key(req);
    if (type === "DATABASE") {
      const limit = this.table().get(`${namespace}/${key}`);
      if (limit === undefined) throw new ArgoApiError(5, `Database sync limit not found in namespace "${namespace}".`);
      return { key, namespace, limit, type };
    }
    const cmName = this.cmName(req);
    const v = asObj(this.configMap(namespace, cmName, true)!.data)[key];
    if (v === undefined) throw new ArgoApiError(5, `key ${key} not found in configmap ${namespace}/${cmName}`);
    if (!/^-?\d+$/.test(String(v).trim())) throw new ArgoApiError(3, `invalid limit format for key ${key} in configmap ${namespace}/${cmName}`);
    return { cmName, namespace, key, limit: Number(String(v).trim()), type };
  }

  update(namespace: string, req: SyncLimitRequest): Obj {
    const limit = positive(req.limit);
    const type = syncType(req.type);
    const key = this.key(req);
    if (type === "DATABASE") return this.putRow(namespace, key, limit, false);
    const cmName = this.cmName(req);
    const cm = this.configMap(namespace, cmName, true)!;
    if (asObj(cm.data)[key] === undefined) throw new ArgoApiError(5, `key ${key} not found in configmap ${namespace}/${cmName} - please create it first`);
    return this.putKey(namespace, cmName, key, limit, cm);
  }

  delete(namespace: string, req: SyncLimitRequest): Obj {
    const type = syncType(req.type);
    const key = this.key(req);
    if (type === "DATABASE") {
      const table = this.table();
      if (!table.delete(`${namespace}/${key}`)) throw new ArgoApiError(5, `Database sync limit not found in namespace "${namespace}".`);
      this.write(table);
      return {};
    }
    const cmName = this.cmName(req);
    const cm = this.configMap(namespace, cmName, true)!;
    const data = { ...asObj(cm.data) };
    delete data[key];
    this.templates.putObject("ConfigMap", namespace, { ...cm, data }, false);
    return {};
  }

  /** Write the limit table's row `<namespace>/<key>`: a new one (create) or one that exists (update). */
  private putRow(namespace: string, key: string, limit: number, create: boolean): Obj {
    const table = this.table();
    const has = table.has(`${namespace}/${key}`);
    if (create && has) throw new ArgoApiError(6, `Database sync limit already exists in namespace "${namespace}".`);
    if (!create && !has) throw new ArgoApiError(5, `Database sync limit not found in namespace "${namespace}".`);
    table.set(`${namespace}/${key}`, limit);
    this.write(table);
    return { key, namespace, limit, type: "DATABASE" };
  }

  private key(req: SyncLimitRequest): string {
    const key = typeof req.key === "string" ? req.key : "";
    if (!key) throw new ArgoApiError(3, "key is required");
    return key;
  }

  private cmName(req: SyncLimitRequest): string {
    const name = typeof req.cmName === "string" ? req.cmName : "";
    if (!name) throw new ArgoApiError(3, "cmName is required for a sync limit of type CONFIGMAP (the ConfigMap that holds it)");
    return checkName(name, "cmName");
  }

  /** The namespace's ConfigMap, or undefined (NotFound when `required`). */
  private configMap(namespace: string, name: string, required: boolean): Obj | undefined {
    try {
      return this.templates.object("ConfigMap", namespace, name);
    } catch (e) {
      if (!required && e instanceof ArgoApiError && e.code === 5) return undefined;
      throw e;
    }
  }

  /** Set the ConfigMap's key to the limit (creating the ConfigMap when there is none). */
  private putKey(namespace: string, cmName: string, key: string, limit: number, cm: Obj | undefined): Obj {
    const data = { ...asObj(cm?.data), [key]: String(limit) };
    this.templates.putObject("ConfigMap", namespace, cm ? { ...cm, data } : { metadata: { name: cmName }, data }, !cm);
    return { cmName, namespace, key, limit, type: "CONFIGMAP" };
  }
}
