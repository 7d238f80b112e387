// The `dflow ui` server against workflows that `dflow run` produced: the
// JSON API has the CLI's shapes, every security rule of the issue holds
// (token, header for changes, loopback, files kept inside), changes on disk
// arrive as events, and the actions do what the commands do.
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type UiServer, startUiServer } from "../../src/ui/server.js";
import { CLI, ROOT, makeUiProject, runIn } from "../support/ui.js";

const root = ROOT;
const cli = CLI;


let work = "";
let server: UiServer;
let token = "";
const ids: Record<string, string> = {};

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { DFLOW_DEBUG_WORKDIR: work, ...extra };
}

const run = (file: string, extra: Record<string, string> = {}) => runIn(work, file, extra);

function api(p: string, init: RequestInit & { auth?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const auth = init.auth === undefined ? token : init.auth;
  if (auth !== null) headers.set("Authorization", `Bearer ${auth}`);
  return fetch(new URL(p, server.url), { ...init, headers });
}

/** Read server-sent events until `until` returns true for one of them (or the test times out). */
async function eventsUntil(p: string, until: (event: string, data: unknown) => boolean, act?: () => Promise<boolean | void> | boolean | void): Promise<Array<[string, unknown]>> {
  const ctl = new AbortController();
  const res = await fetch(new URL(`${p}?token=${token}`, server.url), { signal: ctl.signal });
  expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
  const reader = res.body!.getReader();
  const seen: Array<[string, unknown]> = [];
  let buf = "";
  let acted = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the event stream ended; seen: ${JSON.stringify(seen)}`);
      buf += Buffer.from(value).toString("utf8");
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || data === undefined) continue;
        const parsed = JSON.parse(data) as unknown;
        seen.push([event, parsed]);
        if (event === "hello" && act && !acted) {
          acted = true;
          if ((await act()) === true) return seen;
        }
        if (until(event, parsed)) return seen;
      }
    }
  } finally {
    ctl.abort();
  }
}

/** `dflow run gated.ts`, its step waiting for the file `gate`. */
function gatedRun(gate: string) {
  return execa(process.execPath, [cli, "run", "gated.ts"], { cwd: work, env: env({ DFLOW_TEST_GATE: gate }), reject: false, all: true });
}

/** The id of the gated workflow `child` runs, once the list reports it (in `status` if given); fails if the run ends first. */
async function gatedId(child: ReturnType<typeof execa>, status?: string): Promise<string> {
  let id = "";
  const ended = child.then((r) => {
    throw new Error(`the workflow script ended before its workflow showed up: ${String(r.all ?? r.stderr)}`);
  });
  await Promise.race([
    eventsUntil("/api/events", (event, data) => {
      const w = data as { id: string; status: string };
      if (event === "workflow" && w.id.startsWith("gated-") && (!status || w.status === status)) id = w.id;
      return id !== "";
    }),
    ended,
  ]);
  ended.catch(() => undefined);
  return id;
}

beforeAll(async () => {
  work = makeUiProject("dflow-ui-");
  ids.nested = await run(path.join(root, "examples", "nested-steps-in-dag.ts"));
  ids.artifacts = await run(path.join(root, "examples", "artifacts.ts"));
  ids.failure = await run(path.join(root, "examples", "failure.ts"));
  server = await startUiServer({ root: work, port: 0 });
  token = server.token!;
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (work && !process.env.DFLOW_KEEP_TEST_DIRS) fs.rmSync(work, { recursive: true, force: true });
});

describe("the JSON API", () => {
  it("lists the workflows as `dflow list --json` does", async () => {
    const res = await api("/api/workflows");
    expect(res.status).toBe(200);
    const list = (await res.json()) as Array<Record<string, unknown>>;
    const cliList = JSON.parse((await execa(process.execPath, [cli, "list", "--json"], { cwd: work, env: env() })).stdout) as Array<Record<string, unknown>>;
    expect(list.map((w) => [w.id, w.status, w.progress])).toEqual(cliList.map((w) => [w.id, w.status, w.progress]));
    expect(new Set(Object.keys(list[0]!))).toEqual(new Set(Object.keys(cliList[0]!)));
    const failed = (await (await api("/api/workflows?status=failed")).json()) as Array<{ id: string }>;
    expect(failed.map((w) => w.id)).toEqual([ids.failure]);
    const named = (await (await api("/api/workflows?name=nest")).json()) as Array<{ id: string }>;
    expect(named.map((w) => w.id)).toEqual([ids.nested]);
  });

  it("gives a workflow as `dflow get --json` does, with the graph of its templates", async () => {
    const got = (await (await api(`/api/workflows/${ids.nested}`)).json()) as { steps: Array<{ name: string; children: unknown[] }>; graph: { entrypoint: string; templates: Record<string, { type: string }> } };
    const cliGot = JSON.parse((await execa(process.execPath, [cli, "get", ids.nested!, "--json"], { cwd: work, env: env() })).stdout) as { steps: Array<{ name: string; children: unknown[] }> };
    const names = (ns: Array<{ name: string; children: unknown[] }>): unknown => ns.map((n) => [n.name, names(n.children as typeof ns)]);
    expect(names(got.steps)).toEqual(names(cliGot.steps));
    expect(got.graph.templates[got.graph.entrypoint]!.type).toBe("DAG");
    const dag = got.graph.templates[got.graph.entrypoint] as unknown as { tasks: Array<{ name: string; dependencies: string[] }> };
    expect(dag.tasks.find((t) => t.name === "report")?.dependencies).toEqual(["double"]);
    // A step inside a nested Steps: found through its parents, with the tree's order and its own template.
    const double = (got.steps as unknown as Array<{ name: string; id: string; progress: string; children: Array<{ name: string; id: string; order: string }> }>).find((n) => n.name === "double")!;
    const twice = double.children.find((n) => n.name === "twice")!;
    const d = (await (await api(`/api/workflows/${ids.nested}/steps/${twice.id}`)).json()) as { order: string; template: string };
    expect([d.order, d.template]).toEqual([twice.order, "add"]);
    const group = (await (await api(`/api/workflows/${ids.nested}/steps/${double.id}`)).json()) as { progress: string; template: string };
    expect([group.progress, group.template]).toEqual([double.progress, "double"]);
  });

  it("gives a step's parameters, artifacts, log and script", async () => {
    const got = (await (await api(`/api/workflows/${ids.artifacts}`)).json()) as { steps: Array<{ name: string; id: string }> };
    const count = got.steps.find((s) => s.name === "count")!;
    const d = (await (await api(`/api/workflows/${ids.artifacts}/steps/${count.id}`)).json()) as { phase: string; outputs: { parameters: Record<string, { value: unknown }>; artifacts: Record<string, { path: string }> }; inputs: { artifacts: Record<string, { path: string; target: string }> }; log: string; script: string };
    expect(d.phase).toBe("Succeeded");
    expect((d as unknown as { template: string }).template).toBe("countbytes");
    expect(d.outputs.parameters.total?.value).toBe(9);
    expect(d.inputs.artifacts.files?.target).toBeTruthy();
    // The artifact is a link into another step's outputs: listed through it.
    const listing = (await (await api(`/api/workflows/${ids.artifacts}/files/${d.inputs.artifacts.files!.path}`)).json()) as { kind: string; entries: Array<{ name: string }> };
    expect(listing.kind).toBe("dir");
    expect(listing.entries.length).toBeGreaterThan(0);
    const script = await (await api(`/api/workflows/${ids.artifacts}/files/${d.script}`)).text();
    expect(script.length).toBeGreaterThan(0);
    const log = (await (await api(`/api/workflows/${ids.artifacts}/steps/${count.id}/log?offset=0`)).json()) as { text: string; offset: number; size: number; done: boolean };
    expect(log.done).toBe(true);
    expect(log.offset).toBe(log.size);
  });

  it("downloads a directory as .tar.gz and a file with its name", async () => {
    const got = (await (await api(`/api/workflows/${ids.artifacts}`)).json()) as { steps: Array<{ name: string; id: string }> };
    const show = got.steps.find((s) => s.name === "show")!;
    const tgz = await api(`/api/workflows/${ids.artifacts}/files/${show.id}/inputs?download=1`);
    expect(tgz.status).toBe(200);
    expect(tgz.headers.get("content-type")).toBe("application/gzip");
    const bytes = Buffer.from(await tgz.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const file = await api(`/api/workflows/${ids.artifacts}/files/${show.id}/log.txt?download=1`);
    expect(file.headers.get("content-disposition")).toContain('filename="log.txt"');
  });

  it("answers an unknown workflow, step or route with 404 and a message", async () => {
    for (const p of ["/api/workflows/nope-12345", `/api/workflows/${ids.nested}/steps/nope`, "/api/nothing"]) {
      const res = await api(p);
      expect(res.status, p).toBe(404);
      expect(((await res.json()) as { error: string }).error.length, p).toBeGreaterThan(5);
    }
  });
});

describe("security", () => {
  it("listens on loopback by default and prints the URL with its token", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.openUrl).toBe(`${server.url}?token=${token}`);
    expect(token.length).toBeGreaterThanOrEqual(32);
  });

  it("refuses every /api/ request without the right token", async () => {
    for (const auth of [null, "", "wrong", token.slice(0, -1), `${token}x`, token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase()]) {
      const res = await api("/api/workflows", { auth });
      expect(res.status, String(auth)).toBe(401);
    }
    expect((await fetch(new URL(`/api/workflows?token=${token}`, server.url))).status).toBe(200);
    expect((await fetch(new URL(`/api/workflows/${ids.nested}/events?token=wrong`, server.url))).status).toBe(401);
  });

  it("takes the token for a change only from the Authorization header (a link or a form cannot carry it)", async () => {
    const byQuery = await fetch(new URL(`/api/workflows/${ids.failure}?token=${token}`, server.url), { method: "DELETE" });
    expect(byQuery.status).toBe(401);
    expect(((await byQuery.json()) as { error: string }).error).toMatch(/Authorization header/);
    const form = await fetch(new URL(`/api/workflows/${ids.failure}/stop?token=${token}`, server.url), { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `token=${token}` });
    expect(form.status).toBe(401);
    expect(fs.existsSync(path.join(work, ids.failure!))).toBe(true);
  });

  it("refuses a non-loopback host without a token", async () => {
    await expect(startUiServer({ root: work, port: 0, host: "0.0.0.0", token: null })).rejects.toThrow(/not a loopback address/);
    const r = await execa(process.execPath, [cli, "ui", "--host", "0.0.0.0", "--no-token", "--port", "0"], { cwd: work, env: env(), reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/dflow: --host 0\.0\.0\.0 is not a loopback address/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("serves no file outside the workflow: .., encoded .., absolute paths", async () => {
    const base = `/api/workflows/${ids.nested}/files`;
    const cases = [`${base}/..%2F..%2Fetc%2Fpasswd`, `${base}/%2e%2e/%2e%2e/etc/passwd`, `${base}/%2Fetc%2Fpasswd`, `${base}/..%2f${ids.artifacts}`, `${base}/x%00y`];
    for (const p of cases) {
      const res = await api(p);
      // 404: fetch itself resolved the dots, and what is left names no workflow.
      expect([400, 403, 404], p).toContain(res.status);
      expect(await res.text(), p).not.toContain("root:");
    }
    // A path the client did not normalise reaches nothing either.
    const raw = await execa("curl", ["-s", "--path-as-is", "-H", `Authorization: Bearer ${token}`, `${server.url}api/workflows/${ids.nested}/files/../../../../etc/passwd`], { reject: false });
    expect(raw.stdout).not.toContain("root:");
  });

  it("serves no file through a symlink that leaves the work directory and the artifact root", async () => {
    const wfdir = path.join(work, ids.nested!);
    fs.symlinkSync("/etc", path.join(wfdir, "escape"));
    fs.symlinkSync(path.join(work, ids.artifacts!), path.join(wfdir, "inside"));
    try {
      const out = await api(`/api/workflows/${ids.nested}/files/escape/passwd`);
      expect(out.status).toBe(403);
      expect(await out.text()).not.toContain("root:");
      // A link to elsewhere in the work directory (as artifacts are) is followed.
      expect((await api(`/api/workflows/${ids.nested}/files/inside`)).status).toBe(200);
    } finally {
      fs.rmSync(path.join(wfdir, "escape"));
      fs.rmSync(path.join(wfdir, "inside"));
    }
  });

  it("shows a workflow's HTML file as text in a sandbox, never as a page of this origin", async () => {
    const wfdir = path.join(work, ids.nested!);
    fs.writeFileSync(path.join(wfdir, "evil.html"), "<script>fetch('/api/workflows')</script>");
    try {
      const res = await api(`/api/workflows/${ids.nested}/files/evil.html`);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(res.headers.get("content-security-policy")).toMatch(/sandbox/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    } finally {
      fs.rmSync(path.join(wfdir, "evil.html"));
    }
  });
});

describe("live events and actions", () => {
  it("pushes a step's phases and the workflow's end as they happen on disk, and its log growing", async () => {
    const gate = path.join(work, "gate-1");
    const child = gatedRun(gate);
    try {
      const id = await gatedId(child);
      const seen = await eventsUntil(
        `/api/workflows/${id}/events`,
        (event, data) => event === "workflow" && (data as { status: string }).status === "Succeeded",
        async () => {
          // Released once the watcher is listening: every change below happens after.
          const step = async (): Promise<void> => {
            const got = (await (await api(`/api/workflows/${id}`)).json()) as { steps: Array<{ phase: string }> };
            if (got.steps[0]?.phase !== "Running") {
              await new Promise((r) => setTimeout(r, 50));
              return step();
            }
          };
          await step();
          fs.writeFileSync(gate, "");
        },
      );
      const phases = seen.filter(([e]) => e === "steps").flatMap(([, d]) => (d as { steps: Array<{ name: string; phase: string }> }).steps.filter((s) => s.name === "gated").map((s) => s.phase));
      expect(phases).toContain("Succeeded");
      expect(seen.some(([e]) => e === "log")).toBe(true);
    } finally {
      fs.writeFileSync(gate, "");
      await child;
    }
  });

  it("stops a running workflow and deletes it, as `dflow stop` and `dflow delete` do", async () => {
    const gate = path.join(work, "gate-never");
    const child = gatedRun(gate);
    const id = await gatedId(child, "Running");
    // Deleting a running workflow needs force.
    const refused = await api(`/api/workflows/${id}`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    const stop = await api(`/api/workflows/${id}/stop`, { method: "POST" });
    expect(stop.status).toBe(200);
    expect(((await stop.json()) as { message: string }).message).toMatch(/stopped/);
    const r = await child;
    expect(r.exitCode).not.toBe(0);
    const after = (await (await api(`/api/workflows/${id}`)).json()) as { status: string; message: string };
    expect(after.status).toBe("Failed");
    expect(after.message).toMatch(/dflow ui/);
    const del = await api(`/api/workflows/${id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(fs.existsSync(path.join(work, id))).toBe(false);
  });

  it("suspends and resumes a running workflow, and says so in its events", async () => {
    const gate = path.join(work, "gate-suspend");
    const child = gatedRun(gate);
    try {
      const id = await gatedId(child, "Running");
      const suspended = (want: boolean) => (event: string, data: unknown) => event === "workflow" && (data as { suspended: boolean }).suspended === want;
      await eventsUntil(`/api/workflows/${id}/events`, suspended(true), async () => {
        expect((await api(`/api/workflows/${id}/suspend`, { method: "POST" })).status).toBe(200);
      });
      await eventsUntil(`/api/workflows/${id}/events`, suspended(false), async () => {
        expect((await api(`/api/workflows/${id}/resume`, { method: "POST" })).status).toBe(200);
      });
    } finally {
      fs.writeFileSync(gate, "");
      await child;
    }
  });

  it("retries a failed workflow in the background, as `dflow retry` does", async () => {
    const gate = path.join(work, "gate-retry");
    const child = gatedRun(gate);
    const id = await gatedId(child, "Running");
    await api(`/api/workflows/${id}/stop`, { method: "POST" });
    await child;
    fs.writeFileSync(gate, "");
    const res = await api(`/api/workflows/${id}/retry`, { method: "POST" });
    const body = (await res.json()) as { message?: string; error?: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.message).toMatch(/running in the background/);
    await eventsUntil(`/api/workflows/${id}/events`, (event, data) => event === "workflow" && (data as { status: string }).status === "Succeeded", async () => {
      // It may have ended before the stream opened (then no event comes): the state once listening says so.
      const now = (await (await api(`/api/workflows/${id}`)).json()) as { status: string };
      return now.status === "Succeeded";
    });
    expect(((await (await api(`/api/workflows/${id}`)).json()) as { status: string }).status).toBe("Succeeded");
  });
});

describe("dflow report", () => {
  it("writes one self-contained HTML file with the workflow's data", async () => {
    const out = path.join(work, "report.html");
    const r = await execa(process.execPath, [cli, "report", ids.failure!, "-o", out], { cwd: work, env: env(), reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const html = fs.readFileSync(out, "utf8");
    expect(html).toContain("window.__DFLOW_REPORT__");
    expect(html).toContain(ids.failure!);
    // No network: nothing loaded from elsewhere.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    const data = JSON.parse(/window\.__DFLOW_REPORT__ = (.*);<\/script>/.exec(html)![1]!) as { workflow: { status: string }; logs: Record<string, string> };
    expect(data.workflow.status).toBe("Failed");
    expect(Object.keys(data.logs).length).toBeGreaterThan(0);
  });

  it("names an unknown workflow in one line", async () => {
    const r = await execa(process.execPath, [cli, "report", "nope-00000"], { cwd: work, env: env(), reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^dflow: no workflow "nope-00000"/);
  });
});
