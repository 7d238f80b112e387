// A container's readinessProbe, checked against a local process. Argo marks
// a daemon's node Daemoned (its step done for the steps and tasks after it)
// once its pod runs and is ready: ready when the probe first succeeds, or at
// once when there is none. Locally the pod's address is this machine's
// loopback, where the daemon's process listens.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type Obj, asList, asObj } from "./manifest.js";

/** The address `{{steps.X.ip}}` gives a daemon: the pod's processes share this machine's network. */
export const POD_IP = "127.0.0.1";

/** The Kubernetes node every pod runs on here (`{{steps.X.hostNodeName}}`, a node's hostNodeName): this machine. */
export const HOST_NODE = os.hostname();

/** The probe kinds a local run can check; grpc is refused (check.ts). */
export const PROBE_KINDS = ["httpGet", "tcpSocket", "exec"];
export const PROBE_FIELDS = [...PROBE_KINDS, "initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"];

/** Runs an exec probe's command as the container would; true when it exits 0. */
export type ProbeExec = (argv: string[], timeoutMs: number) => Promise<boolean>;

/**
 * Resolve true once `probe` (a readinessProbe, or none) holds, false when the
 * process ends first (`exited` settles) or `signal` aborts. Kubernetes checks
 * every periodSeconds (10 s when not given); here every periodSeconds, 1 s
 * when not given: a local daemon is ready sooner, and nothing else changes.
 */
export async function waitReady(probe: unknown, o: { ports: unknown; exec: ProbeExec; exited: Promise<unknown>; signal?: AbortSignal }): Promise<boolean> {
  if (probe === undefined || probe === null) return true;
  const p = asObj(probe);
  let gone = false;
  void o.exited.then(
    () => (gone = true),
    () => (gone = true),
  );
  const seconds = (v: unknown, d: number) => (Number.isFinite(Number(v)) && v !== undefined && v !== null ? Number(v) : d);
  const timeoutMs = seconds(p.timeoutSeconds, 1) * 1000;
  const periodMs = seconds(p.periodSeconds, 1) * 1000;
  const needed = Math.max(1, seconds(p.successThreshold, 1));
  const wait = async (ms: number) => {
    // Ends early when the process does: a daemon that dies is not waited for.
    await Promise.race([sleep(ms, undefined, { signal: o.signal }).catch(() => undefined), o.exited.catch(() => undefined)]);
  };
  await wait(seconds(p.initialDelaySeconds, 0) * 1000);
  let ok = 0;
  for (;;) {
    if (gone || o.signal?.aborted) return false;
    ok = (await check(p, o.ports, o.exec, timeoutMs)) ? ok + 1 : 0;
    if (gone || o.signal?.aborted) return false;
    if (ok >= needed) return true;
    await wait(periodMs);
  }
}

/** A port given by number, or by the name of one of the container's ports. */
export function probePort(port: unknown, ports: unknown): number {
  if (typeof port === "number") return port;
  const named = asList(ports).find((x) => x.name === port);
  if (named) return Number(named.containerPort);
  return Number(port);
}

async function check(p: Obj, ports: unknown, exec: ProbeExec, timeoutMs: number): Promise<boolean> {
  if (p.exec !== undefined) {
    const argv = (Array.isArray(asObj(p.exec).command) ? (asObj(p.exec).command as unknown[]) : []).map(String);
    return argv.length > 0 && exec(argv, timeoutMs).catch(() => false);
  }
  if (p.tcpSocket !== undefined) {
    const t = asObj(p.tcpSocket);
    return connects(String(t.host ?? "") || POD_IP, probePort(t.port, ports), timeoutMs);
  }
  const g = asObj(p.httpGet);
  return httpOk(g, probePort(g.port, ports), timeoutMs);
}

function connects(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** As the kubelet: a status from 200 to 399 is ready; an HTTPS server's certificate is not checked. */
function httpOk(g: Obj, port: number, timeoutMs: number): Promise<boolean> {
  const https_ = String(g.scheme ?? "HTTP").toUpperCase() === "HTTPS";
  const headers = Object.fromEntries(asList(g.httpHeaders).map((h) => [String(h.name), String(h.value ?? "")]));
  const pathname = String(g.path ?? "/");
  return new Promise((resolve) => {
    const req = (https_ ? https : http).get({ host: String(g.host ?? "") || POD_IP, port, path: pathname.startsWith("/") ? pathname : `/${pathname}`, headers, timeout: timeoutMs, ...(https_ ? { rejectUnauthorized: false } : {}) }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.once("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.once("error", () => resolve(false));
  });
}
