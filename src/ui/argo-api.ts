// The workflow part of the Argo Server REST API (swagger.json's paths under
// /api/v1/workflows, /api/v1/workflow-templates, /api/v1/cluster-workflow-templates,
// /api/v1/cron-workflows, /api/v1/sync),
// served by `dflow server` (= `dflow ui`, same token) so that the `argo` CLI,
// Hera and dflow's Python client run workflows here without Kubernetes. The
// routes only translate HTTP to engine/api/argo.ts; errors have Argo's shape,
// {"code": <gRPC code>, "message": "..."}, with grpc-gateway's HTTP status.
import { html } from "hono/html";
import { getMimeType } from "hono/utils/mime";
import { sameToken } from "./token.js";
import type { Context, Hono } from "hono";
import { stream } from "hono/streaming";
import { packageVersion } from "../version.js";
import { ArgoApiError, type ArgoWorkflowService, GRPC_HTTP, type TemplateKind } from "../../engine/api/argo.js";
import type { ObjectKind } from "../../engine/api/argo-templates.js";

type Status = 200 | 400 | 401 | 403 | 404 | 409 | 500 | 501;

function argoError(c: Context, code: keyof typeof GRPC_HTTP, message: string): Response {
  return c.json({ code, message }, GRPC_HTTP[code] as Status);
}

async function body(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ArgoApiError(3, "the request body is not a JSON object");
}

const flag = (v: string | undefined): boolean => v === "true" || v === "1";

/** A URL part decoded, or null when it is not valid percent-encoding (a 400, not a 500). */
function decoded(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * A request's credentials: its Authorization header (argo, Hera), else the
 * `authorization` cookie that Argo's UI sets at login, which Argo Server's
 * gatekeeper reads too (server/auth/gatekeeper.go getAuthHeaders). The cookie
 * counts only for a request from the page's own origin, as the browser tells
 * (Sec-Fetch-Site, Origin): a page on another port of this host is the same
 * site, and would otherwise act with it.
 */
function credentials(c: Context): string {
  const header = c.req.header("authorization");
  if (header) return header;
  const cookie = /(?:^|;\s*)authorization=([^;]*)/.exec(c.req.header("cookie") ?? "")?.[1];
  if (!cookie) return "";
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return "";
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== `http://${c.req.header("host")}` && origin !== `https://${c.req.header("host")}`) return "";
  return (decoded(cookie) ?? "").replace(/^"(.*)"$/, "$1");
}

/** Mount the Argo routes on `app` (before the UI's own /api/* middleware, which they do not go through). */
export function mountArgoApi(app: Hono, argo: ArgoWorkflowService, token: string | null): void {
  // argo and Hera send `Authorization: Bearer <token>` (ARGO_TOKEN='Bearer <token>'), Argo's UI its cookie; never a token in the URL.
  /** The request's token, when it has one: undefined without, false when wrong, true when right. */
  const tokenOf = (c: Context): boolean | undefined => {
    const bearer = /^Bearer\s+(.+)$/i.exec(credentials(c))?.[1]?.trim();
    return bearer === undefined ? undefined : sameToken(bearer, token ?? "");
  };
  const allowed = (c: Context) => token === null || tokenOf(c) === true;
  app.use("/api/v1/*", async (c, next) => {
    c.header("Cache-Control", "no-store");
    if (!allowed(c)) return argoError(c, 16, tokenOf(c) === false ? "token not valid: use the token `dflow server` printed (ARGO_TOKEN='Bearer <token>')" : "token not valid: the request has no Authorization: Bearer <token> header (ARGO_TOKEN='Bearer <token>'), nor, from Argo's UI, an authorization cookie");
    // Hono hands a route's error to the app's onError (the UI's shape) and records it: answered here in Argo's.
    await next();
    const e = c.error;
    if (e instanceof ArgoApiError) c.res = argoError(c, e.code, e.message);
    else if (e) c.res = argoError(c, 13, `internal error: ${e instanceof Error ? e.message : String(e)}`);
  });

  const ns = (c: Context) => c.req.param("namespace")!;
  const name = (c: Context) => c.req.param("name")!;
  const q = (c: Context, k: string) => c.req.query(k) || undefined;

  // ---------------------------------------------------------- workflows
  const W = "/api/v1/workflows/:namespace";
  // A list with an empty namespace (`/api/v1/workflows/`) is of every namespace, as Argo's UI asks before one is chosen.
  const listQuery = (c: Context) => ({
    labelSelector: q(c, "listOptions.labelSelector"),
    fieldSelector: q(c, "listOptions.fieldSelector"),
    limit: q(c, "listOptions.limit"),
    continue: q(c, "listOptions.continue"),
    resourceVersion: q(c, "listOptions.resourceVersion"),
    nameFilter: q(c, "nameFilter"),
    createdAfter: q(c, "createdAfter"),
    finishedBefore: q(c, "finishedBefore"),
  });
  const list = (c: Context) => c.json(argo.list(c.req.param("namespace") ?? "", listQuery(c), q(c, "fields")));
  app.get(W, list);
  app.get("/api/v1/workflows/", list);
  app.post(W, async (c) => c.json(await argo.create(ns(c), await body(c))));
  app.post(`${W}/lint`, async (c) => c.json(argo.lint(ns(c), await body(c))));
  app.post(`${W}/submit`, async (c) => c.json(await argo.submit(ns(c), await body(c))));
  app.get(`${W}/:name`, (c) => c.json(argo.get(ns(c), name(c), q(c, "fields"), q(c, "uid"))));
  // Argo's HTTP/1 client sends a DELETE's options in the body, Hera in the query.
  app.delete(`${W}/:name`, async (c) => c.json(await argo.delete(ns(c), name(c), flag(q(c, "force")) || (await body(c)).force === true)));
  app.put(`${W}/:name/stop`, async (c) => c.json(await argo.shutdown(ns(c), name(c), await body(c), "Stop")));
  app.put(`${W}/:name/terminate`, async (c) => c.json(await argo.shutdown(ns(c), name(c), await body(c), "Terminate")));
  app.put(`${W}/:name/suspend`, async (c) => (await body(c), c.json(argo.suspend(ns(c), name(c)))));
  app.put(`${W}/:name/resume`, async (c) => c.json(argo.resume(ns(c), name(c), await body(c))));
  app.put(`${W}/:name/retry`, async (c) => c.json(await argo.retry(ns(c), name(c), await body(c))));
  app.put(`${W}/:name/resubmit`, async (c) => c.json(await argo.resubmit(ns(c), name(c), await body(c))));
  app.put(`${W}/:name/set`, async (c) => c.json(argo.set(ns(c), name(c), await body(c))));
  const logs = (c: Context, podName: string | undefined, signal: AbortSignal) => {
    const tail = q(c, "logOptions.tailLines");
    const tailLines = tail === undefined ? undefined : Number(tail);
    if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) throw new ArgoApiError(3, `logOptions.tailLines must be a non-negative integer, got ${JSON.stringify(tail)}`);
    // Options that would change what is shown and are not honoured: refused, unless left at their defaults.
    for (const k of ["logOptions.sinceSeconds", "logOptions.sinceTime.seconds", "logOptions.limitBytes"]) if (q(c, k) && q(c, k) !== "0") throw new ArgoApiError(3, `${k} is not supported by this server`);
    for (const k of ["logOptions.previous", "logOptions.timestamps"]) if (flag(q(c, k))) throw new ArgoApiError(3, `${k} is not supported by this server`);
    const lines = argo.logs(ns(c), name(c), { podName, container: q(c, "logOptions.container"), follow: flag(q(c, "logOptions.follow")), grep: q(c, "grep"), tailLines, selector: q(c, "selector") }, signal);
    return lines;
  };
  // The argo CLI (HTTP/1) asks with Accept: text/event-stream and reads `data: {"result": ...}` events;
  // other clients get the gateway's newline-delimited JSON.
  // A stream ends when the client goes away: `open(signal)` makes the lines (refusing a bad request
  // then, before the stream starts: an error, not an empty stream), aborted then.
  const serveStream = (c: Context, open: (signal: AbortSignal) => AsyncGenerator<string>) => {
    const ctl = new AbortController();
    const lines = open(ctl.signal);
    const sse = (c.req.header("accept") ?? "").includes("text/event-stream");
    const frame = (l: string) => (sse ? `data: ${l.trimEnd()}\n\n` : l);
    c.header("Content-Type", sse ? "text/event-stream" : "application/json");
    return stream(c, async (s) => {
      s.onAbort(() => ctl.abort());
      for await (const l of lines) {
        if (s.aborted) break;
        await s.write(frame(l));
      }
    });
  };
  app.get(`${W}/:name/log`, (c) => serveStream(c, (signal) => logs(c, q(c, "podName"), signal)));
  app.get(`${W}/:name/:podName/log`, (c) => serveStream(c, (signal) => logs(c, c.req.param("podName"), signal)));
  const watch = (c: Context) => {
    const query = listQuery(c);
    const namespace = c.req.param("namespace") ?? "";
    argo.listQuery(namespace, query); // refused here (a bad selector), before the stream starts
    return serveStream(c, (signal) => argo.watch(namespace, query, q(c, "fields"), signal));
  };
  app.get("/api/v1/stream/events/:namespace", (c) => {
    const fieldSelector = q(c, "listOptions.fieldSelector");
    argo.eventSelector(fieldSelector); // refused here (a bad selector), before the stream starts
    return serveStream(c, (signal) => argo.events(ns(c), fieldSelector, signal));
  });
  app.get("/api/v1/workflow-events/:namespace", watch);
  app.get("/api/v1/workflow-events/", watch);

  // ---------------------------------------------------------- artifacts
  // Argo Server's downloads (outside swagger.json, plain HTTP): Argo's UI and Hera's get_output_artifact.
  // A file is sent as it is, a directory as a .tgz of its contents; errors are plain text, as Argo's.
  const artifactRoutes = ["/artifacts/*", "/input-artifacts/*", "/artifacts-by-uid/*", "/input-artifacts-by-uid/*"];
  for (const route of artifactRoutes) {
    app.get(route, async (c) => {
      c.header("Cache-Control", "no-store");
      if (!allowed(c)) return c.text("Unauthorized: use the token `dflow server` printed (Authorization: Bearer <token>)\n", 401);
      const input = route.startsWith("/input-");
      const parts = c.req.path.split("/").slice(2).map(decoded) as string[];
      const byUid = route.includes("-by-uid");
      if (parts.length !== (byUid ? 3 : 4) || parts.some((p) => !p)) return c.text(`Bad Request: the path is ${route.slice(0, -2)}/${byUid ? "{uid}" : "{namespace}/{name}"}/{nodeId}/{artifactName}\n`, 400);
      try {
        const a = byUid ? await argo.artifact({ uid: parts[0] }, parts[1], parts[2], input) : await argo.artifact({ namespace: parts[0], name: parts[1] }, parts[2], parts[3], input);
        c.header("Content-Disposition", `filename="${a.filename}"`);
        c.header("Content-Type", a.contentType);
        c.header("X-Frame-Options", "SAMEORIGIN");
        return c.body(a.body);
      } catch (e) {
        if (e instanceof ArgoApiError) return c.text(`Not Found: ${e.message}\n`, 404);
        throw e;
      }
    });
  }

  // Argo's UI links a node's artifacts here: a file as it is, a directory as a page listing it.
  app.get("/artifact-files/*", async (c) => {
    c.header("Cache-Control", "no-store");
    if (!allowed(c)) return c.text("Unauthorized: use the token `dflow server` printed (Authorization: Bearer <token>)\n", 401);
    // An artifact is a pod's output, served from this origin: kept from running scripts here (Argo's headers).
    c.header("Content-Security-Policy", "sandbox allow-same-origin; base-uri 'none'; default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'");
    c.header("X-Frame-Options", "SAMEORIGIN");
    const parts = c.req.path.split("/").slice(2).map(decoded);
    const listing = c.req.path.endsWith("/");
    if (parts.length < 6 || parts.slice(0, 6).some((p) => !p) || parts.some((p) => p === null)) return c.text("Bad Request: the path is /artifact-files/{namespace}/workflows/{name}/{nodeId}/{inputs|outputs}/{artifact}[/{file}]\n", 400);
    const [namespace, kind, wfName, nodeId, direction, artifact, ...rest] = parts as string[];
    try {
      const r = argo.artifactFile(namespace!, kind!, wfName!, nodeId!, direction!, artifact!, rest.filter(Boolean).join("/"), listing);
      if ("redirect" in r) return c.redirect(`${c.req.path}${r.redirect}`, 307);
      // hono's html escapes what it is given: a file's name is the pod's to choose.
      if ("entries" in r) return c.html(html`<html><body><ul>\n<li><a href="..">..</a></li>\n${r.entries.map((e) => html`<li><a href="./${encodeURI(e)}">${e}</a></li>\n`)}</ul></body></html>`);
      c.header("Content-Disposition", `filename="${r.filename}"`);
      c.header("Content-Type", getMimeType(r.filename) ?? "application/octet-stream");
      return c.body(r.body);
    } catch (e) {
      if (e instanceof ArgoApiError) return c.text(`${e.code === 3 ? "Bad Request" : "Not Found"}: ${e.message}\n`, e.code === 3 ? 400 : 404);
      throw e;
    }
  });

  // ---------------------------------------------------------- templates
  const templates = (base: string, kind: TemplateKind, key: string) => {
    const list = (c: Context) => c.json({ metadata: {}, items: argo.templates.list(kind, c.req.param("namespace") ?? "", q(c, "namePattern")) });
    app.get(base, list);
    if (base.endsWith("/:namespace")) app.get(base.slice(0, -":namespace".length), list);
    app.post(base, async (c) => {
      const b = await body(c);
      return c.json(argo.templates.create(kind, c.req.param("namespace") ?? "", b[key]));
    });
    app.post(`${base}/lint`, async (c) => {
      const b = await body(c);
      return c.json(argo.templates.prepare(kind, c.req.param("namespace") ?? "", b[key]));
    });
    app.get(`${base}/:name`, (c) => c.json(argo.templates.get(kind, c.req.param("namespace") ?? "", name(c))));
    app.put(`${base}/:name`, async (c) => c.json(argo.templates.update(kind, c.req.param("namespace") ?? "", name(c), (await body(c))[key])));
    app.delete(`${base}/:name`, (c) => {
      argo.templates.delete(kind, c.req.param("namespace") ?? "", name(c));
      return c.json({});
    });
  };
  templates("/api/v1/workflow-templates/:namespace", "WorkflowTemplate", "template");
  templates("/api/v1/cluster-workflow-templates", "ClusterWorkflowTemplate", "template");

  // ---------------------------------------------------------- CronWorkflows
  const C = "/api/v1/cron-workflows/:namespace";
  app.get(C, (c) => c.json(argo.cron.list(ns(c))));
  app.get("/api/v1/cron-workflows/", (c) => c.json(argo.cron.list("")));
  app.post(C, async (c) => c.json(argo.cron.create(ns(c), await body(c))));
  app.post(`${C}/lint`, async (c) => c.json(argo.cron.lint(ns(c), await body(c))));
  app.get(`${C}/:name`, (c) => c.json(argo.cron.get(ns(c), name(c))));
  app.put(`${C}/:name`, async (c) => c.json(argo.cron.update(ns(c), name(c), await body(c))));
  app.delete(`${C}/:name`, (c) => c.json(argo.cron.delete(ns(c), name(c))));
  app.put(`${C}/:name/suspend`, async (c) => (await body(c), c.json(argo.cron.setSuspend(ns(c), name(c), true))));
  app.put(`${C}/:name/resume`, async (c) => (await body(c), c.json(argo.cron.setSuspend(ns(c), name(c), false))));

  // ---------------------------------------------------------- sync limits
  // `argo sync create|get|update|delete`: a database semaphore's row of the limit table, or a ConfigMap's key.
  const S = "/api/v1/sync/:namespace";
  const syncQuery = (c: Context) => ({ key: c.req.param("key"), type: q(c, "type"), cmName: q(c, "cmName") });
  app.post(S, async (c) => c.json(argo.templates.sync.create(ns(c), await body(c))));
  app.get(`${S}/:key`, (c) => c.json(argo.templates.sync.get(ns(c), syncQuery(c))));
  app.put(`${S}/:key`, async (c) => c.json(argo.templates.sync.update(ns(c), { ...(await body(c)), key: c.req.param("key") })));
  app.delete(`${S}/:key`, (c) => c.json(argo.templates.sync.delete(ns(c), syncQuery(c))));

  // ---------------------------------------------------------- Kubernetes
  // ConfigMaps and Secrets: the Kubernetes call dflow's Python client makes (DFLOW_K8S_API_SERVER =
  // this server, a memoization cache for the steps `submit(reuse_step=...)` reuses), and the ones a
  // namespace's workflows read (volumes, env, parameters, semaphore limits).
  const objects = (plural: string, kind: ObjectKind) => {
    const base = `/api/v1/namespaces/:namespace/${plural}`;
    app.post(base, async (c) => c.json(kind === "ConfigMap" ? await argo.createConfigMap(ns(c), await body(c)) : argo.templates.putObject(kind, ns(c), await body(c), true), 201));
    app.get(base, (c) => c.json({ apiVersion: "v1", kind: `${kind}List`, metadata: {}, items: argo.templates.objects(kind, ns(c)) }));
    app.get(`${base}/:name`, (c) => c.json(argo.templates.object(kind, ns(c), name(c))));
    app.put(`${base}/:name`, async (c) => c.json(argo.replaceObject(kind, ns(c), name(c), await body(c))));
    app.delete(`${base}/:name`, (c) => {
      argo.templates.deleteObject(kind, ns(c), name(c));
      return c.json({ apiVersion: "v1", kind: "Status", status: "Success" });
    });
  };
  objects("configmaps", "ConfigMap");
  objects("secrets", "Secret");

  // ---------------------------------------------------------- the server
  // `argo version` and the clients that print the server's: this server's own version, no Go build.
  app.get("/api/v1/version", (c) => c.json({ version: `v${packageVersion()}+dflow-ts`, buildDate: "", gitCommit: "", gitTag: "", gitTreeState: "", goVersion: "", compiler: `node ${process.version}`, platform: `${process.platform}/${process.arch}` }));
  app.get("/api/v1/info", (c) => c.json({ links: [], columns: [] }));
  // One token, no identity behind it: the subject is the server's own user.
  app.get("/api/v1/userinfo", (c) => c.json({ subject: process.env.USER ?? "" }));

  app.all("/api/v1/*", (c) => argoError(c, 12, `${c.req.method} ${c.req.path} is not served by dflow server (it serves workflows, workflow templates, cluster workflow templates and cron workflows)`));
}
