// The `dflow ui` server: the page (dist/ui, built by vite) and the JSON API
// under /api/ it reads, over the engine's WorkflowStore and Watcher (the
// step directories stay the only truth; no database). A login node is shared
// by many users, any of whom can connect to 127.0.0.1, so every /api/ request
// needs the random token printed with the URL (compared in constant time),
// state-changing requests need it in the Authorization header (a link or a
// form from another site cannot carry one), and files are served only from
// inside the work directory and the artifact root, symlinks resolved.
import crypto from "node:crypto";
import { sameToken } from "./token.js";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { serve } from "@hono/node-server";
import { ApiError, WorkflowStore } from "../../engine/api/workflows.js";
import { type Subscription, Watcher, type WorkflowEvent } from "../../engine/api/watch.js";
import { isInside } from "../../engine/store/fsx.js";
import { ArgoWorkflowService, artifactRepository } from "../../engine/api/argo.js";
import { mountArgoApi } from "./argo-api.js";
import { mountS3 } from "./s3.js";

/** Where vite puts the page: dist/ui (this module is dist/src/ui/server.js; from the sources, in tests, the built one). */
export const UI_DIR = [new URL("../../ui/", import.meta.url), new URL("../../dist/ui/", import.meta.url)].map((u) => fileURLToPath(u)).find((d) => fs.existsSync(path.join(d, "index.html"))) ?? fileURLToPath(new URL("../../ui/", import.meta.url));

export interface UiServerOptions {
  /** The work directory (DFLOW_DEBUG_WORKDIR). */
  root: string;
  artifactRoot?: string;
  port?: number;
  host?: string;
  /** The token to require; a random one by default. `null`: none (loopback only). */
  token?: string | null;
}

export interface UiServer {
  url: string;
  /** The URL with the token, to open. */
  openUrl: string;
  token: string | null;
  port: number;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** Files of workflows: never served as something the browser would run on this origin. */
const FILE_TYPES: Record<string, string> = { ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".pdf": "application/pdf" };

function looksText(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return !buf.subarray(0, n).includes(0);
  } finally {
    fs.closeSync(fd);
  }
}

const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function createApp(opts: { store: WorkflowStore; watcher: Watcher; token: string | null; uiDir?: string; argo?: ArgoWorkflowService; s3Root?: string }): Hono {
  const { store, watcher, token } = opts;
  const uiDir = opts.uiDir ?? UI_DIR;
  const app = new Hono();

  app.onError((e, c) => {
    if (e instanceof ApiError) return c.json({ error: e.message }, e.status);
    const msg = e instanceof Error ? e.message : String(e);
    return c.json({ error: `internal error: ${msg}` }, 500);
  });
  app.notFound((c) => (c.req.path.startsWith("/api/") ? c.json({ error: `no such API: ${c.req.method} ${c.req.path}` }, 404) : c.text("not found", 404)));

  // The S3 API of the Argo runner's artifact repository (dflow's Python client): requests signed the S3 way.
  if (opts.s3Root) mountS3(app, opts.s3Root, token);
  // The Argo Server API (`dflow server`): its own routes under /api/v1/, same token, Argo's error shape.
  mountArgoApi(app, opts.argo ?? new ArgoWorkflowService(store), token);

  // Every /api/ request: the token (header; for GET also ?token=, for links and EventSource).
  app.use("/api/*", async (c, next) => {
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    if (token === null) return next();
    const auth = c.req.header("authorization");
    const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1];
    const safe = c.req.method === "GET" || c.req.method === "HEAD";
    const given = bearer ?? (safe ? c.req.query("token") : undefined);
    if (!given || !sameToken(given, token)) {
      const why = !safe && !bearer && c.req.query("token") ? "a request that changes something needs the token in the Authorization header (Bearer), not in the URL" : "missing or wrong token: open the URL `dflow ui` printed (it ends with ?token=...)";
      return c.json({ error: why }, 401);
    }
    return next();
  });

  app.get("/api/workflows", (c) => c.json(store.list({ status: c.req.query("status") || undefined, name: c.req.query("name") || undefined })));
  app.get("/api/workflows/:id", (c) => c.json(store.get(c.req.param("id"))));
  app.get("/api/workflows/:id/steps", (c) => c.json(store.get(c.req.param("id")).steps));
  app.get("/api/workflows/:id/steps/:step", (c) => c.json(store.step(c.req.param("id"), c.req.param("step"))));
  app.get("/api/workflows/:id/steps/:step/log", (c) => {
    const off = Number(c.req.query("offset") ?? "0");
    if (!Number.isFinite(off)) throw new ApiError(400, `offset must be a number of bytes, got ${c.req.query("offset")}`);
    return c.json(store.log(c.req.param("id"), c.req.param("step"), Math.trunc(off)));
  });
  app.get("/api/workflows/:id/files/*", (c) => serveFile(c, store));
  app.get("/api/workflows/:id/files", (c) => serveFile(c, store));

  const action = (name: string, run: (id: string, c: Context) => Promise<string | { message: string }> | string) =>
    app.post(`/api/workflows/:id/${name}`, async (c) => {
      const r = await run(c.req.param("id"), c);
      return c.json(typeof r === "string" ? { message: r } : r);
    });
  action("stop", (id) => store.stop(id));
  action("terminate", (id) => store.stop(id));
  action("suspend", (id) => store.suspend(id));
  action("resume", (id) => store.resume(id));
  action("retry", (id) => store.rerun(id, "retry"));
  action("resubmit", (id) => store.rerun(id, "resubmit"));
  app.delete("/api/workflows/:id", async (c) => c.json({ message: await store.delete(c.req.param("id"), ["1", "true"].includes(c.req.query("force") ?? "")) }));

  const events = (c: Context, subscribe: (l: (e: WorkflowEvent) => void) => Subscription) =>
    streamSSE(c, async (stream) => {
      const queue: WorkflowEvent[] = [];
      let wake: (() => void) | null = null;
      const { off, ready } = subscribe((e) => {
        queue.push(e);
        wake?.();
      });
      let open = true;
      stream.onAbort(() => {
        open = false;
        off();
        wake?.();
      });
      // "hello" once the watcher misses nothing: a page (re)reads the state on it.
      await ready;
      await stream.writeSSE({ event: "hello", data: "{}" });
      while (open) {
        if (!queue.length) {
          // A comment line every 15 s keeps proxies (ssh -L, nginx) from closing an idle stream.
          const beat = setTimeout(() => wake?.(), 15_000);
          await new Promise<void>((r) => (wake = r));
          clearTimeout(beat);
          wake = null;
          if (!queue.length && open) await stream.write(": keep-alive\n\n");
          continue;
        }
        const e = queue.shift()!;
        await stream.writeSSE({ event: e.type, data: JSON.stringify(e.data) });
      }
      off();
    });
  app.get("/api/events", (c) => events(c, (l) => watcher.workflowList(l)));
  app.get("/api/workflows/:id/events", (c) => {
    const id = c.req.param("id");
    store.dirOf(id); // 404 before the stream starts
    return events(c, (l) => watcher.workflow(id, l));
  });

  // Argo UI's link to a workflow (dflow's Python client prints it after submitting): this page's view of it.
  app.get("/workflows/:namespace/:name", (c) => c.redirect(`/${new URL(c.req.url).search}#/workflows/${encodeURIComponent(c.req.param("name"))}`));

  // The page: index.html and its assets. They hold no data (that comes from /api/), so they need no token.
  app.get("*", (c) => {
    const rel = c.req.path === "/" ? "index.html" : decodeURIComponent(c.req.path.slice(1));
    const file = path.resolve(uiDir, rel);
    if (c.req.path.startsWith("/api/")) return c.json({ error: `no such API: ${c.req.method} ${c.req.path}` }, 404);
    if (!isInside(file, path.resolve(uiDir)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      if (rel === "index.html") return c.text(`The UI page is not built (${uiDir} is missing): run \`npm run build\` in the dflow-ts checkout. The API under /api/ works.`, 503);
      return c.text("not found", 404);
    }
    c.header("Content-Type", TYPES[path.extname(file)] ?? "application/octet-stream");
    c.header("X-Content-Type-Options", "nosniff");
    if (file.endsWith(".html")) {
      c.header("Content-Security-Policy", PAGE_CSP);
      c.header("Cache-Control", "no-store");
    }
    return c.body(fs.readFileSync(file));
  });
  return app;
}

async function serveFile(c: Context, store: WorkflowStore): Promise<Response> {
  const id = c.req.param("id")!;
  const prefix = `/api/workflows/${id}/files`;
  const raw = c.req.path.slice(prefix.length).replace(/^\//, "");
  let rel: string;
  try {
    rel = decodeURIComponent(raw);
  } catch {
    throw new ApiError(400, `${raw}: not a valid path`);
  }
  const f = store.file(id, rel || ".");
  const download = ["1", "true"].includes(c.req.query("download") ?? "");
  // Whatever a workflow wrote is shown, never run: no script of an artifact runs on this origin.
  c.header("Content-Security-Policy", "sandbox; default-src 'none'");
  if (f.kind === "dir") {
    if (!download) return c.json({ kind: "dir", name: f.name, entries: f.entries });
    const tar = await import("tar");
    const stream = tar.c({ gzip: true, cwd: path.dirname(f.abs), portable: true }, [path.basename(f.abs)]);
    c.header("Content-Type", "application/gzip");
    c.header("Content-Disposition", `attachment; filename="${encodeURIComponent(f.name || id)}.tar.gz"`);
    // tar's stream is a Minipass, not a Node stream: read it as the async iterable it also is.
    return c.body(Readable.toWeb(Readable.from(stream as AsyncIterable<Buffer>)) as ReadableStream);
  }
  const ext = path.extname(f.name).toLowerCase();
  c.header("Content-Type", FILE_TYPES[ext] ?? (looksText(f.abs) ? "text/plain; charset=utf-8" : "application/octet-stream"));
  c.header("Content-Length", String(f.size));
  if (download) c.header("Content-Disposition", `attachment; filename="${encodeURIComponent(f.name)}"`);
  return c.body(Readable.toWeb(fs.createReadStream(f.abs)) as ReadableStream);
}

/** Start serving; resolves once listening. */
export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const host = o.host ?? "127.0.0.1";
  const token = o.token === undefined ? crypto.randomBytes(24).toString("base64url") : o.token;
  if (token === null && !isLoopback(host)) {
    throw new ApiError(400, `--host ${host} is not a loopback address: the UI can then be reached from other machines, so it needs its token (drop --no-token)`);
  }
  const store = new WorkflowStore(o.root, { artifactRoot: o.artifactRoot });
  const watcher = new Watcher(store);
  // The server runs the CronWorkflows of its work directory while it runs.
  const argo = new ArgoWorkflowService(store);
  argo.cron.start();
  const app = createApp({ store, watcher, token, argo, s3Root: artifactRepository(path.resolve(o.root)) });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: o.port ?? 2746, hostname: host }, () => resolve(s));
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  const url = `http://${shown}:${port}/`;
  argo.artifactRepositoryRef = { default: true, artifactRepository: { s3: { bucket: "argo-artifacts", endpoint: `${shown}:${port}`, insecure: true } } };
  return {
    url,
    openUrl: token ? `${url}?token=${token}` : url,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        void argo.cron.stop();
        watcher.close();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
