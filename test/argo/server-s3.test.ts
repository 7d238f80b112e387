// What `dflow server` serves beside the Argo API for dflow's Python client
// (default mode): the S3 API of the local artifact repository, spoken here by
// minio's own JavaScript client (dflow uses its Python sibling), and the
// Kubernetes ConfigMaps: dflow's memoization caches for step reuse, and the
// ones workflows mount or take semaphore limits from. The real
// command runs in a fresh work directory; workflows go through the Argo API.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as Minio from "minio";
import * as tar from "tar";
import { execa } from "execa";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DflowServer, startDflowServer } from "../support/ui.js";

type Obj = Record<string, any>;

const root = path.resolve(import.meta.dirname, "..", "..");
let work = "";
let server: DflowServer;
let s3: Minio.Client;
const BUCKET = "my-bucket";

function client(secretKey: string, extra: Partial<Minio.ClientOptions> = {}): Minio.Client {
  const u = new URL(server.base);
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: "admin", secretKey, ...extra });
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString();
}

async function list(prefix: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s3.listObjectsV2(BUCKET, prefix, recursive) as AsyncIterable<{ name?: string; prefix?: string }>) out.push(o.name ?? `prefix:${o.prefix}`);
  return out;
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; json: Obj }> {
  const res = await fetch(new URL(route, server.base), { method, headers: { Authorization: `Bearer ${server.token}`, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Obj };
}

async function runToEnd(workflow: Obj, namespace = "dflow-py"): Promise<Obj> {
  const created = await api("POST", `/api/v1/workflows/${namespace}`, { workflow });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  for (let i = 0; i < 3000; i++) {
    const r = await api("GET", `/api/v1/workflows/${namespace}/${created.json.metadata.name}`);
    if (["Succeeded", "Failed", "Error"].includes(r.json.status?.phase)) return r.json;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error("the workflow never ended");
}

/** A workflow of one template, `main`, run to its end: the workflow, and its pod's node. */
async function runMain(generateName: string, main: Obj, spec: Obj = {}): Promise<{ wf: Obj; pod: Obj }> {
  const wf = await runToEnd({ metadata: { generateName }, spec: { entrypoint: "main", ...spec, templates: [{ name: "main", ...main }] } });
  return { wf, pod: Object.values(wf.status.nodes as Obj).find((n: Obj) => n.type === "Pod") as Obj };
}

beforeAll(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-s3-")));
  server = await startDflowServer(work);
  s3 = client(server.token);
});

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("dflow server: S3 for dflow's Python client", () => {
  it("prints the settings dflow's Python client needs, all pointing at this server", () => {
    const port = new URL(server.base).port;
    expect(server.banner).toContain(`dflow's Python client: DFLOW_HOST=http://127.0.0.1:${port} DFLOW_K8S_API_SERVER=http://127.0.0.1:${port} DFLOW_S3_ENDPOINT=127.0.0.1:${port} DFLOW_TOKEN=${server.token} DFLOW_S3_SECRET_KEY=${server.token}`);
  });

  it("puts, stats, reads (whole and a range), lists, copies and deletes objects: files of the artifact repository", async () => {
    expect(await s3.bucketExists(BUCKET)).toBe(true);
    const put = await s3.putObject(BUCKET, "upload/a/x.txt", "hello");
    expect(put.etag).toBe(crypto.createHash("md5").update("hello").digest("hex"));
    expect(fs.readFileSync(path.join(work, ".argo-artifacts", "upload", "a", "x.txt"), "utf8")).toBe("hello");
    const st = await s3.statObject(BUCKET, "upload/a/x.txt");
    expect([st.size, st.etag]).toEqual([5, put.etag]);
    expect(await text(await s3.getObject(BUCKET, "upload/a/x.txt"))).toBe("hello");
    expect(await text(await s3.getPartialObject(BUCKET, "upload/a/x.txt", 1, 3))).toBe("ell");
    for (const k of ["upload/a/d/1.txt", "upload/a/d/2 with space.txt", "upload/ab/z.txt"]) await s3.putObject(BUCKET, k, k);
    // A prefix is a prefix of keys (upload/ab too), as S3 has it; a delimiter groups what lies below.
    expect(await list("upload/a", true)).toEqual(["upload/a/d/1.txt", "upload/a/d/2 with space.txt", "upload/a/x.txt", "upload/ab/z.txt"]);
    expect((await list("upload/a/", false)).sort()).toEqual(["prefix:upload/a/d/", "upload/a/x.txt"]);
    await s3.copyObject(BUCKET, "upload/b/copy.txt", `/${BUCKET}/upload/a/x.txt`, new Minio.CopyConditions());
    expect(await text(await s3.getObject(BUCKET, "upload/b/copy.txt"))).toBe("hello");
    await s3.removeObject(BUCKET, "upload/b/copy.txt");
    await expect(s3.statObject(BUCKET, "upload/b/copy.txt")).rejects.toMatchObject({ code: "NotFound" });
    await expect(s3.getObject(BUCKET, "upload/b/copy.txt")).rejects.toMatchObject({ code: "NoSuchKey" });
  });

  it("assembles a multipart upload into one object and leaves no part behind", async () => {
    const big = crypto.randomBytes(11 * 1024 * 1024);
    const small = client(server.token, { partSize: 5 * 1024 * 1024 });
    await small.putObject(BUCKET, "upload/big.bin", big);
    const got = fs.readFileSync(path.join(work, ".argo-artifacts", "upload", "big.bin"));
    expect(crypto.createHash("sha256").update(got).digest("hex")).toBe(crypto.createHash("sha256").update(big).digest("hex"));
    expect(fs.readdirSync(path.join(work, ".argo-artifacts.multipart"))).toEqual([]);
  });

  it("refuses a request not signed with the token, and a key that is no path of the repository", async () => {
    await expect(client("not-the-token").putObject(BUCKET, "upload/x", "x")).rejects.toMatchObject({ code: "SignatureDoesNotMatch", message: expect.stringContaining("DFLOW_S3_SECRET_KEY=<token>") });
    await expect(s3.putObject(BUCKET, "upload/../../escape", "x")).rejects.toMatchObject({ code: "InvalidArgument" });
    expect(fs.existsSync(path.join(work, "escape"))).toBe(false);
    await expect(s3.putObject(BUCKET, "upload/a/x.txt/below", "x")).rejects.toMatchObject({ code: "ParentIsObject" });
    // Signature V2 and presigned URLs: told apart from the UI's requests, and refused saying what is served.
    for (const r of [await fetch(new URL(`${BUCKET}/upload/a/x.txt`, server.base), { headers: { Authorization: "AWS admin:c2lnbmF0dXJl" } }), await fetch(await s3.presignedGetObject(BUCKET, "upload/a/x.txt"))]) {
      expect(r.status).toBe(501);
      expect(await r.text()).toContain("only requests signed with AWS Signature V4 in the Authorization header are served here");
    }
  });

  it("a workflow takes an uploaded tarball as its input artifact, and its output is read back over S3 under the key its status gives", async () => {
    const src = fs.mkdtempSync(path.join(work, "src-"));
    fs.mkdirSync(path.join(src, "data"));
    fs.writeFileSync(path.join(src, "data", "msg"), "from the laptop");
    const tgz = path.join(src, "data.tgz");
    tar.c({ gzip: true, sync: true, file: tgz, cwd: src }, ["data"]);
    await s3.fPutObject(BUCKET, "upload/u1/data.tgz", tgz);
    const { wf, pod } = await runMain("py-art-", {
      inputs: { artifacts: [{ name: "data", path: "/tmp/inputs/data", s3: { key: "upload/u1/data.tgz" } }] },
      script: { image: "python:3.8", command: ["sh"], source: "tr a-z A-Z < /tmp/inputs/data/msg > /tmp/out.txt" },
      outputs: { artifacts: [{ name: "out", path: "/tmp/out.txt" }] },
    });
    expect(wf.status.phase).toBe("Succeeded");
    const key = pod.outputs.artifacts[0].s3.key as string;
    expect(key.endsWith("/out/out.txt")).toBe(true);
    expect(await text(await s3.getObject(BUCKET, key))).toBe("FROM THE LAPTOP");
    expect(await list(key, true)).toEqual([key]);
  });
});

describe("dflow export with dflow's S3 variables: what a workflow reads from this machine goes to the repository they name", () => {
  it("examples/simple-example.ts's uploaded file is put in the server's bucket under the key the workflow reads, and the workflow runs there", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-export-s3-")));
    try {
      const u = new URL(server.base);
      const r = await execa(process.execPath, [path.join(root, "dist", "src", "cli.js"), "export", path.join(root, "examples", "simple-example.ts"), "-o", "wf.yaml"], {
        cwd,
        reject: false,
        all: true,
        env: { DFLOW_S3_ENDPOINT: `${u.hostname}:${u.port}`, DFLOW_S3_SECRET_KEY: server.token },
      });
      expect(r.exitCode, r.all).toBe(0);
      expect(r.all).toMatch(/in the S3 bucket my-bucket at 127\.0\.0\.1:\d+ \(DFLOW_S3_ENDPOINT\)/);
      const [workflow] = YAML.parseAllDocuments(fs.readFileSync(path.join(cwd, "wf.yaml"), "utf8")).map((d) => d.toJS() as Obj);
      const key = JSON.stringify(workflow).match(/"key":"(upload\/[0-9a-f-]{36}\/tmp[^"]+)"/)![1]!;
      // The objects of the upload, its catalog beside the file, as dflow's default mode uploads them.
      const objects = await list(`${key}/`, true);
      expect(objects.some((o) => o.endsWith("/foo.txt"))).toBe(true);
      expect(objects.some((o) => o.includes("/.dflow/"))).toBe(true);
      expect(await text(await s3.getObject(BUCKET, objects.find((o) => o.endsWith("/foo.txt"))!))).toBe("Hello from foo.txt\n");
      // Then as on a cluster: the OPs' ConfigMap created in the namespace, the workflow submitted.
      for (const d of YAML.parseAllDocuments(fs.readFileSync(path.join(cwd, "wf.ops.yaml"), "utf8")).map((x) => x.toJS() as Obj)) {
        expect((await api("POST", "/api/v1/namespaces/export-s3/configmaps", d)).status).toBe(201);
      }
      const done = await runToEnd(workflow, "export-s3");
      expect(done.status.phase, done.status.message).toBe("Succeeded");
      const step1 = Object.values(done.status.nodes as Obj).find((n: Obj) => n.displayName === "step1") as Obj;
      expect(step1.outputs.parameters.find((p: Obj) => p.name === "msg").value).toBe("HelloWorld!");
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe("dflow server: Kubernetes ConfigMaps (dflow's step reuse, volumes, semaphores)", () => {
  it("takes a memoization cache ConfigMap, and a workflow memoized with it gets the cached outputs without running", async () => {
    const entry = { nodeID: "old-node", outputs: { parameters: [{ name: "said", value: "cached", description: '{"type": "str"}' }] }, creationTimestamp: new Date().toISOString(), lastHitTimestamp: new Date().toISOString() };
    const cm = await api("POST", "/api/v1/namespaces/dflow-py/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dflow-reuse-k1", labels: { "workflows.argoproj.io/configmap-type": "Cache" } }, data: { "reuse-k1": JSON.stringify(entry) } });
    expect(cm.status).toBe(201);
    expect(cm.json.metadata).toMatchObject({ name: "dflow-reuse-k1", namespace: "dflow-py" });
    const { wf, pod } = await runMain(
      "py-reuse-",
      {
        inputs: { parameters: [{ name: "dflow_key", value: "{{workflow.parameters.key}}" }] },
        // dflow's memoize: the ConfigMap's name uses the input as well as the key does.
        memoize: { key: "reuse-{{inputs.parameters.dflow_key}}", cache: { configMap: { name: "dflow-reuse-{{inputs.parameters.dflow_key}}" } } },
        script: { image: "alpine", command: ["sh"], source: "echo fresh > /tmp/said" },
        outputs: { parameters: [{ name: "said", valueFrom: { path: "/tmp/said" } }] },
      },
      { arguments: { parameters: [{ name: "key", value: "k1" }] } },
    );
    expect([wf.status.phase, pod.memoizationStatus, pod.outputs.parameters]).toEqual(["Succeeded", { hit: true, key: "reuse-k1", cacheName: "dflow-reuse-k1" }, [{ name: "said", value: "cached", description: '{"type": "str"}' }]]);
  });

  it("keeps any other ConfigMap for the namespace's workflows (semaphore limits, volumes), and refuses a cache entry it cannot use", async () => {
    const CM = "/api/v1/namespaces/dflow-py/configmaps";
    const made = await api("POST", CM, { metadata: { name: "settings" }, data: { limit: "1", "greeting.txt": "hi" } });
    expect([made.status, made.json.metadata.namespace, made.json.data]).toEqual([201, "dflow-py", { limit: "1", "greeting.txt": "hi" }]);
    expect((await api("POST", CM, { metadata: { name: "settings" }, data: {} })).json).toEqual({ code: 6, message: 'configmaps "settings" already exists' });
    expect((await api("POST", CM, { metadata: { name: "bad-key" }, data: { "a/b": "x" } })).status).toBe(400);
    const replaced = await api("PUT", `${CM}/settings`, { metadata: { name: "settings" }, data: { limit: "2", "greeting.txt": "hello" } });
    expect([replaced.status, replaced.json.metadata.resourceVersion, replaced.json.metadata.uid]).toEqual([200, "2", made.json.metadata.uid]);
    expect((await api("GET", CM)).json.items.map((i: Obj) => i.metadata.name)).toEqual(["settings"]);
    const { wf, pod } = await runMain("py-cm-", {
      synchronization: { semaphores: [{ configMapKeyRef: { name: "settings", key: "limit" } }] },
      volumes: [{ name: "cfg", configMap: { name: "settings" } }],
      script: { image: "alpine", command: ["sh"], source: "cat /etc/cfg/greeting.txt", volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg" }] },
    });
    expect([wf.status.phase, pod.outputs.result]).toEqual(["Succeeded", "hello"]);
    // Another namespace does not see it: refused at create, in one line.
    const other = await api("POST", "/api/v1/workflows/elsewhere", { workflow: { ...wf, metadata: { generateName: "py-cm-" }, status: undefined } });
    expect([other.status, other.json.message]).toEqual([400, expect.stringMatching(/^templates\.main\.volumes\.cfg needs ConfigMap settings, which is not given: .* on dflow server, create it in the workflow's namespace \(POST \/api\/v1\/namespaces\/<namespace>\/configmaps\)$/)]);
    // A Secret the same way: stringData kept as data (base64), as the API server keeps it; read by env.
    const secret = await api("POST", "/api/v1/namespaces/dflow-py/secrets", { metadata: { name: "creds" }, stringData: { token: "t0k" } });
    expect([secret.status, secret.json.data]).toEqual([201, { token: Buffer.from("t0k").toString("base64") }]);
    const withSecret = await runMain("py-secret-", { script: { image: "alpine", command: ["sh"], source: 'echo "$TOKEN"', env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }] } });
    expect(withSecret.pod.outputs.result).toBe("t0k");
    expect((await api("DELETE", `${CM}/settings`)).status).toBe(200);
    expect((await api("GET", `${CM}/settings`)).json).toEqual({ code: 5, message: 'configmaps "settings" not found' });
    const bad = await api("POST", CM, { metadata: { name: "c2", labels: { "workflows.argoproj.io/configmap-type": "Cache" } }, data: { k: JSON.stringify({ outputs: { artifacts: [{ name: "a", gcs: { key: "x" } }] } }) } });
    expect([bad.status, bad.json.message]).toEqual([400, "ConfigMap c2 data.k: output artifact a has no s3 key; only artifacts of the local repository (key-only s3) can be reused here"]);
  });
});
