// Argo's synchronization (§11): mutexes and semaphores, held by the
// workflows of this engine process (`dflow server` runs all of its
// namespaces' workflows in one process; `dflow run wf.yaml` its own).
// - a mutex: one holder at a time, named by its namespace (the mutex's
//   `namespace`, else the workflow's) and name, as Argo names it;
// - a semaphore: as many holders as its limit, the value of its ConfigMap's
//   key (ConfigMaps given locally, as for volumes);
// - a database mutex or semaphore (Argo's multi-controller locks, v3.7):
//   with one controller, the database's only job is the limit table
//   (`sync_limit`), which the workflow is handed (ArgoWorkflow.syncLimits:
//   `dflow run --sync-limit`, or `argo sync create --type database` on dflow
//   server). Database locks and the other kind never share a lock, as in Argo.
// A workflow knows the limits it was given (ConfigMaps, the limit table) when
// it was created; the newest to take a semaphore sets its size for all, as
// Argo re-reads a changed limit: holders beyond a lowered one finish, and the
// next wait until fewer than the new limit hold it.
import pLimit, { type LimitFunction } from "p-limit";
import { type ArgoWorkflow, type Obj, ArgoUnsupported, asList, asObj, workflowNamespace } from "./manifest.js";
import { type ConfigMapFiles, how } from "./volumes.js";

/** One lock a template or workflow holds while it runs. */
export interface SyncLock {
  /** Its identity among every workflow of the process (kind, namespace, name). */
  id: string;
  /** Argo's name of it (`<namespace>/Mutex/<name>`, `<namespace>/ConfigMap/<name>/<key>`, `<namespace>/Database/<key>`). */
  name: string;
  /** A database lock's key in Argo's tables (`mtx/<namespace>/<name>`, `sem/<namespace>/<key>`). */
  dbKey?: string;
  limit: number;
}

const MUTEX_FIELDS = ["name", "namespace", "database"];
const SEMAPHORE_FIELDS = ["configMapKeyRef", "database", "namespace"];

function refuse(where: string, why: string): never {
  throw new ArgoUnsupported(`${where} is not supported when running Argo workflows locally: ${why}`);
}

/** What the lock needs and was not given (a limit): `where` and what to do. */
function missing(where: string, what: string): never {
  throw new ArgoUnsupported(`${where} ${what}`);
}

const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

/**
 * The locks a `synchronization` field asks for, in the order they are taken
 * (by id, so two holders never deadlock). Throws ArgoUnsupported, naming
 * `where` and the field, for what cannot be held here: checkWorkflow calls it
 * before anything runs (`checking`: a limit named by a tag, resolved when the
 * template runs, is looked up then), the interpreter again when it takes them.
 */
export function syncLocks(synchronization: unknown, wf: Pick<ArgoWorkflow, "metadata" | "configMaps" | "syncLimits">, where = "synchronization", checking = false): SyncLock[] {
  const sync = asObj(synchronization);
  for (const k of Object.keys(sync)) if (!["mutex", "mutexes", "semaphore", "semaphores"].includes(k)) refuse(`${where}.${k}`, "unknown synchronization field");
  const own = workflowNamespace(wf);
  const out: SyncLock[] = [];
  for (const { o: m, at } of oneOrMany(sync, "mutex", "mutexes", where)) {
    for (const k of Object.keys(m)) if (!MUTEX_FIELDS.includes(k)) refuse(`${at}.${k}`, "unknown mutex field");
    const ns = str(m.namespace) || own;
    const name = str(m.name);
    out.push(m.database === true ? { id: `mtx/${ns}/${name}`, name: `${ns}/Database/${name}`, dbKey: `mtx/${ns}/${name}`, limit: 1 } : { id: `${ns}/Mutex/${name}`, name: `${ns}/Mutex/${name}`, limit: 1 });
  }
  for (const { o: s, at } of oneOrMany(sync, "semaphore", "semaphores", where)) {
    for (const k of Object.keys(s)) if (!SEMAPHORE_FIELDS.includes(k)) refuse(`${at}.${k}`, "unknown semaphore field");
    const ns = str(s.namespace) || own;
    if (checking && JSON.stringify(s).includes("{{")) continue;
    if (s.database !== undefined) {
      const key = str(asObj(s.database).key);
      if (!key) missing(`${at}.database.key`, "is required: a database semaphore names its key (its row of the limit table is <namespace>/<key>)");
      const limit = wf.syncLimits.get(`${ns}/${key}`);
      if (limit === undefined) {
        missing(`${at}.database`, `has no limit: none is given for database semaphore ${ns}/${key} (Argo's sync_limit table): give it with \`dflow run wf.yaml --sync-limit ${ns}/${key}=N\`, or on dflow server with \`argo sync create ${key} --type database --limit N\` (POST /api/v1/sync/${ns})`);
      }
      out.push({ id: `sem/${ns}/${key}`, name: `${ns}/Database/${key}`, dbKey: `sem/${ns}/${key}`, limit });
      continue;
    }
    // ConfigMaps are handed by the workflow's namespace (or, locally, without one).
    if (ns !== own) refuse(`${at}.namespace`, `the limit's ConfigMap is in namespace ${ns}, but only the workflow's own namespace's (${own}) ConfigMaps are given to it`);
    const ref = asObj(s.configMapKeyRef);
    const limit = semaphoreLimit(wf.configMaps, ref, at);
    const name = `${ns}/ConfigMap/${str(ref.name)}/${str(ref.key)}`;
    out.push({ id: name, name, limit });
  }
  // A lock named twice is held once (taking it again would wait for itself).
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).filter((l, i, all) => i === 0 || all[i - 1]!.id !== l.id);
}

/** A lock given as one (`mutex`, Argo before 3.6) and as a list (`mutexes`), each with where it is written. */
function oneOrMany(sync: Obj, one: string, many: string, where: string): Array<{ o: Obj; at: string }> {
  return [...(sync[one] !== undefined ? [{ o: asObj(sync[one]), at: `${where}.${one}` }] : []), ...asList(sync[many]).map((o, i) => ({ o, at: `${where}.${many}[${i}]` }))];
}

/**
 * A semaphore's limit: the value of its configMapKeyRef in a ConfigMap given
 * locally (as for volumes), a positive integer.
 */
function semaphoreLimit(configMaps: Map<string, ConfigMapFiles>, ref: Obj, where: string): number {
  const name = str(ref.name);
  const key = str(ref.key);
  if (!name || !key) missing(`${where}.configMapKeyRef`, "must name a ConfigMap and a key (its value is the limit)");
  const v = configMaps.get(name)?.get(key);
  if (v === undefined) missing(where, `needs ConfigMap ${name} with key ${key} for its limit, which is not given: ${how("ConfigMap")}`);
  const n = Number(String(v).trim());
  if (!Number.isInteger(n) || n < 1) missing(where, `limit ${JSON.stringify(String(v))} (ConfigMap ${name}, key ${key}) is not a positive integer`);
  return n;
}

/** The locks of this process, by id: one p-limit each. */
const locks = new Map<string, LimitFunction>();

/** Argo's message for a holder that waits for `lock` (its words: available/limit, a database's holders/limit). */
function waitingMessage(lock: SyncLock, m: LimitFunction): string {
  const status = lock.dbKey ? `${Math.min(m.activeCount, lock.limit)}/${lock.limit}` : `${Math.max(0, lock.limit - m.activeCount)}/${lock.limit}`;
  return `Waiting for ${lock.name} lock${lock.dbKey ? ` (${lock.dbKey})` : ""}. Lock status: ${status}`;
}

/**
 * Run `fn` holding the locks of a `synchronization` field. `waiting` is told
 * Argo's message when a lock is not free at once, and undefined once all are held.
 */
export function withLocks<T>(synchronization: unknown, wf: Pick<ArgoWorkflow, "metadata" | "configMaps" | "syncLimits">, fn: () => Promise<T>, waiting?: (message: string | undefined) => void, signal?: AbortSignal): Promise<T> {
  const held = synchronization === undefined ? [] : syncLocks(synchronization, wf);
  let waited = false;
  // `signal` gives up the wait (the template's timeout, for which Argo fails a node still
  // Pending): the wait ends at once with its reason, each lock already taken is let go, and a
  // turn still queued lets go as soon as it comes. Once `fn` runs, the signal is its own business.
  let started = false;
  let abandoned = false;
  const giveUp = <R>(p: Promise<R>): Promise<R> =>
    !signal
      ? p
      : new Promise<R>((resolve, reject) => {
          const onAbort = () => {
            if (started) return;
            abandoned = true;
            reject(signal.reason);
          };
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
          p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
        });
  const hold = (i: number): Promise<T> => {
    if (i >= held.length) {
      if (abandoned) return Promise.reject(signal!.reason);
      started = true;
      if (waited) waiting?.(undefined);
      return fn();
    }
    let m = locks.get(held[i].id);
    if (!m) locks.set(held[i].id, (m = pLimit(held[i].limit)));
    else if (m.concurrency !== held[i].limit) m.concurrency = held[i].limit;
    if (m.activeCount + m.pendingCount >= held[i].limit) {
      waited = true;
      waiting?.(waitingMessage(held[i], m));
    }
    return giveUp(m(() => (abandoned ? Promise.reject(signal!.reason) : hold(i + 1))));
  };
  return hold(0);
}
