// The page's client of the JSON API under /api/: the token (taken from the URL
// `dflow ui` printed, kept in localStorage, sent as a Bearer header), typed
// requests, links (downloads, event streams) carrying `?token=`.
import type { DirListing, LogChunk, StepDetail, WorkflowDetail, WorkflowJson } from "./types";

const TOKEN_KEY = "dflow-ui-token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

let token: string | null = null;

/** Read the token from the address bar (and take it out of it) or from localStorage. */
export function initToken(): string | null {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    token = given;
    try {
      localStorage.setItem(TOKEN_KEY, given);
    } catch {
      // storage refused (private mode): the token lives as long as the page
    }
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + (url.search === "?" ? "" : url.search) + url.hash);
  } else {
    try {
      token = localStorage.getItem(TOKEN_KEY);
    } catch {
      token = null;
    }
  }
  return token;
}

export function getToken(): string | null {
  return token;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** A workflow-relative path, each part encoded ("a b/c" -> "a%20b/c"). */
export function encPath(rel: string): string {
  return rel
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .map(enc)
    .join("/");
}

/** A URL that carries the token in its query (links, downloads, EventSource: they cannot send headers). */
export function linkUrl(path: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params);
  if (token) q.set("token", token);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (e) {
    throw new ApiError(0, `the dflow ui server does not answer (${e instanceof Error ? e.message : String(e)}): is it still running?`);
  }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: string };
      if (body && typeof body.error === "string") msg = body.error;
    } catch {
      // not JSON
    }
    if (res.status === 401 && !/token/i.test(msg)) msg = `Not authorized (${msg}): open the URL \`dflow ui\` printed (it ends with ?token=...).`;
    throw new ApiError(res.status, msg);
  }
  return res;
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await request(path, init);
  return (await res.json()) as T;
}

export const api = {
  list: () => json<WorkflowJson[]>("/api/workflows"),
  get: (id: string) => json<WorkflowDetail>(`/api/workflows/${enc(id)}`),
  step: (id: string, stepId: string) => json<StepDetail>(`/api/workflows/${enc(id)}/steps/${enc(stepId)}`),
  log: (id: string, stepId: string, offset: number) => json<LogChunk>(`/api/workflows/${enc(id)}/steps/${enc(stepId)}/log?offset=${offset}`),
  action: (id: string, action: "stop" | "suspend" | "resume" | "retry" | "resubmit") => json<{ message: string }>(`/api/workflows/${enc(id)}/${action}`, { method: "POST" }),
  remove: (id: string, force: boolean) => json<{ message: string }>(`/api/workflows/${enc(id)}${force ? "?force=1" : ""}`, { method: "DELETE" }),
  fileUrl: (id: string, rel: string) => `/api/workflows/${enc(id)}/files/${encPath(rel)}`,
  downloadUrl: (id: string, rel: string) => linkUrl(`/api/workflows/${enc(id)}/files/${encPath(rel)}`, { download: "1" }),
  /** A file or a directory: a directory comes as its listing, a file as (at most `limit` bytes of) its text. */
  async file(id: string, rel: string, limit = 256 * 1024): Promise<{ kind: "dir"; listing: DirListing } | { kind: "file"; text: string; truncated: boolean; binary: boolean; size: number | null; type: string }> {
    const res = await request(api.fileUrl(id, rel));
    const type = res.headers.get("content-type") ?? "";
    if (type.startsWith("application/json")) return { kind: "dir", listing: (await res.json()) as DirListing };
    const size = Number(res.headers.get("content-length") ?? NaN);
    const binary = !type.startsWith("text/");
    if (binary || !res.body) {
      void res.body?.cancel();
      return { kind: "file", text: "", truncated: false, binary: true, size: Number.isFinite(size) ? size : null, type };
    }
    // Read no more than `limit`: a log or a trajectory can be gigabytes.
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let got = 0;
    let truncated = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      got += value.length;
      if (got >= limit) {
        truncated = true;
        void reader.cancel();
        break;
      }
    }
    const all = new Uint8Array(Math.min(got, limit));
    let at = 0;
    for (const c of chunks) {
      const part = c.subarray(0, Math.min(c.length, all.length - at));
      all.set(part, at);
      at += part.length;
      if (at >= all.length) break;
    }
    return { kind: "file", text: new TextDecoder().decode(all), truncated, binary: false, size: Number.isFinite(size) ? size : null, type };
  },
  listEvents: () => new EventSource(linkUrl("/api/events")),
  workflowEvents: (id: string) => new EventSource(linkUrl(`/api/workflows/${enc(id)}/events`)),
};
