// Artifacts outside the local repository (engine/argo/remote.ts): inputs from
// an http URL or a git repository, fetched before the pod starts, and s3
// buckets with an endpoint, read and written, against a real HTTP server, a
// real git repository of this machine and a real S3 API (dflow server's, in
// a process of its own); what cannot be honoured is refused in one line.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Workflow } from "../../src/workflow.js";
import { type DflowServer, startDflowServer } from "../support/ui.js";
import { manifest } from "../support/argo.js";
import { useArgoWorkdir } from "../support/workdir.js";

useArgoWorkdir("argo-remote-");
let server: http.Server;
let base = "";
let host: string;
let repo: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/greeting.txt" && req.headers["x-token"] === "abc") return void res.end("hello over http\n");
    // Basic credentials; an oauth2 token endpoint (client credentials, the client's id and secret as Basic credentials) and what its token opens.
    if (req.url === "/basic.txt" && req.headers.authorization === `Basic ${Buffer.from("alice:s3cret").toString("base64")}`) return void res.end("behind basic auth\n");
    if (req.url === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c));
      req.on("end", () => {
        const form = new URLSearchParams(body);
        const ok = req.headers.authorization === `Basic ${Buffer.from("client-1:shh").toString("base64")}` && form.get("grant_type") === "client_credentials" && form.get("scope") === "read write" && form.get("audience") === "files";
        res.setHeader("Content-Type", "application/json");
        res.statusCode = ok ? 200 : 401;
        res.end(ok ? JSON.stringify({ access_token: "tok-42", token_type: "bearer", expires_in: 3600 }) : '{"error": "invalid_client"}');
      });
      return;
    }
    if (req.url === "/oauth.txt" && req.headers.authorization === "Bearer tok-42") return void res.end("behind oauth2\n");
    res.statusCode = req.url === "/greeting.txt" ? 403 : 404;
    res.end("no");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A repository with two commits, the first tagged v1 (under /var/tmp: not a path a pod re-roots).
  host = fs.mkdtempSync("/var/tmp/argo-remote-");
  repo = path.join(host, "repo");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main", ...args], { cwd: repo });
  fs.mkdirSync(repo);
  git("init", "--quiet");
  fs.writeFileSync(path.join(repo, "version.txt"), "v1\n");
  git("add", ".");
  git("commit", "--quiet", "-m", "one");
  git("tag", "v1");
  fs.writeFileSync(path.join(repo, "version.txt"), "v2\n");
  git("commit", "--quiet", "-am", "two");
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(host, { recursive: true, force: true });
});

const fetching = () => manifest("remote-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: web, template: web}
      - {name: tagged, template: show, arguments: {artifacts: [{name: src, git: {repo: "${repo}", revision: v1}}]}}
      - {name: head, template: show, arguments: {artifacts: [{name: src, git: {repo: "${repo}", depth: 1}}]}}
  - name: web
    inputs:
      artifacts:
      - {name: page, path: /tmp/page.txt, http: {url: "${base}/greeting.txt", headers: [{name: X-Token, value: abc}]}}
    container: {image: alpine, command: [cat, /tmp/page.txt]}
  - name: show
    inputs: {artifacts: [{name: src, path: /src}]}
    container: {image: alpine, command: [cat, /src/version.txt]}
`;

describe("http and git input artifacts", () => {
  it("are fetched before the pod starts: a GET with its headers, a clone at a revision or a depth", async () => {
    const wf = Workflow.from_yaml(fetching());
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const result = (name: string) => Object.values(wf.status()!.nodes).find((n) => n.displayName === name)!.outputs?.result;
    expect([result("web"), result("tagged"), result("head")]).toEqual(["hello over http", "v1", "v2"]);
  });

  it("fail the node with the server's or git's answer when they cannot be fetched", async () => {
    const wf = Workflow.from_yaml(fetching().replace("value: abc", "value: wrong").replace("revision: v1", "revision: v9"));
    expect((await wf.submit()).phase).toBe("Failed");
    const node = (name: string) => Object.values(wf.status()!.nodes).find((n) => n.displayName === name)!;
    expect(node("web")).toMatchObject({ phase: "Error", message: `inputs.artifacts.page: GET ${base}/greeting.txt: 403 Forbidden` });
    expect(node("tagged").phase).toBe("Error");
    expect(node("tagged").message).toMatch(/^inputs\.artifacts\.src: git checkout .*: error: pathspec 'v9' did not match/);
  });

  it("with credentials from Secrets given locally: basicAuth, and oauth2's client credentials (a token asked for, then sent as Bearer)", async () => {
    const authed = manifest("http-auth-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: basic, template: get, arguments: {artifacts: [{name: page, http: {url: "${base}/basic.txt", auth: {basicAuth: {usernameSecret: {name: web, key: user}, passwordSecret: {name: web, key: password}}}}}]}}
      - {name: oauth, template: get, arguments: {artifacts: [{name: page, http: {url: "${base}/oauth.txt", auth: {oauth2: {clientIDSecret: {name: web, key: id}, clientSecretSecret: {name: web, key: secret}, tokenURLSecret: {name: web, key: token-url}, scopes: [read, write], endpointParams: [{key: audience, value: files}]}}}}]}}
  - name: get
    inputs: {artifacts: [{name: page, path: /tmp/page.txt}]}
    container: {image: alpine, command: [cat, /tmp/page.txt]}
---
apiVersion: v1
kind: Secret
metadata: {name: web}
stringData: {user: alice, password: s3cret, id: client-1, secret: shh, token-url: "${base}/token"}
`;
    const wf = Workflow.from_yaml(authed);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const result = (name: string) => Object.values(wf.status()!.nodes).find((n) => n.displayName === name)!.outputs?.result;
    expect([result("basic"), result("oauth")]).toEqual(["behind basic auth", "behind oauth2"]);
    // A wrong secret: the token endpoint's refusal is the node's error.
    const wrong = Workflow.from_yaml(authed.replace("secret: shh", "secret: nope"));
    expect((await wrong.submit()).phase).toBe("Failed");
    expect(Object.values(wrong.status()!.nodes).find((n) => n.displayName === "oauth")).toMatchObject({ phase: "Error", message: `inputs.artifacts.page: oauth2 token from ${base}/token: 401 Unauthorized` });
    // A Secret that is not given, and a client certificate, are refused before anything runs.
    expect(() => Workflow.from_yaml(authed.replace("metadata: {name: web}", "metadata: {name: elsewhere}"))).toThrow(/http\.auth\.basicAuth\.usernameSecret.*web/);
    const cert = authed.replace("auth: {basicAuth: {usernameSecret: {name: web, key: user}, passwordSecret: {name: web, key: password}}}", "auth: {clientCert: {clientCertSecret: {name: web, key: user}, clientKeySecret: {name: web, key: password}}}");
    expect(() => Workflow.from_yaml(cert)).toThrow("templates.main.steps[0].basic.arguments.artifacts.page.http.auth.clientCert is not supported when running Argo workflows locally: a client certificate is not presented locally; give basicAuth, oauth2 or headers");
  });

  it("refuse, before anything runs, credentials from Secrets and remote locations for outputs", () => {
    const withSecret = fetching().replace("revision: v1}", "revision: v1, usernameSecret: {name: creds, key: user}}");
    expect(() => Workflow.from_yaml(withSecret)).toThrow("templates.main.steps[0].tagged.arguments.artifacts.src.git.usernameSecret is not supported when running Argo workflows locally: credentials from Secrets are not used locally: the clone uses this machine's git configuration (credential helpers, ssh keys); drop it");
    const output = fetching().replace("    container: {image: alpine, command: [cat, /src/version.txt]}", `    container: {image: alpine, command: [cat, /src/version.txt]}\n    outputs: {artifacts: [{name: o, path: /tmp/o, http: {url: "${base}/up"}}]}`);
    expect(() => Workflow.from_yaml(output)).toThrow("templates.show.outputs.artifacts.o.http is not supported when running Argo workflows locally: only the local default repository (key-only s3), s3 buckets with an endpoint, raw and from: artifacts are available locally");
  });
});

describe("s3 artifacts with an endpoint", () => {
  let store: DflowServer;
  let storeDir: string;
  beforeAll(async () => {
    storeDir = fs.mkdtempSync(path.join(host, "store-"));
    store = await startDflowServer(storeDir);
  });
  afterAll(async () => {
    await store?.stop();
  });

  const s3 = (key: string) => `{endpoint: "${new URL(store.base).host}", insecure: true, bucket: results, key: ${key}, accessKeySecret: {name: s3-keys, key: access}, secretKeySecret: {name: s3-keys, key: secret}}`;
  const keys = () => `---
apiVersion: v1
kind: Secret
metadata: {name: s3-keys}
stringData: {access: admin, secret: ${store.token}}
`;

  it("put outputs there (a .tgz, or as they are with archive none) and read inputs from there", async () => {
    const wf = Workflow.from_yaml(manifest("s3-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: make, template: make}
    - - {name: read, template: read}
  - name: make
    container: {image: alpine, command: [sh, -c, "echo made here > /tmp/out.txt"]}
    outputs:
      artifacts:
      - {name: packed, path: /tmp/out.txt, s3: ${s3("runs/out.tgz")}}
      - {name: plain, path: /tmp/out.txt, archive: {none: {}}, s3: ${s3("runs/plain.txt")}}
  - name: read
    inputs: {artifacts: [{name: in, path: /tmp/in.txt, s3: ${s3("runs/out.tgz")}}]}
    container: {image: alpine, command: [cat, /tmp/in.txt]}
${keys()}`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    expect(Object.values(wf.status()!.nodes).find((n) => n.displayName === "read")!.outputs?.result).toBe("made here");
    // The store's objects are files of its repository: the plain one as it was, the other a gzip.
    const repo = path.join(storeDir, ".argo-artifacts");
    expect(fs.readFileSync(path.join(repo, "runs", "plain.txt"), "utf8")).toBe("made here\n");
    expect([...fs.readFileSync(path.join(repo, "runs", "out.tgz")).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
  });

  it("are listed by a data template: the keys under a prefix, in S3's order", async () => {
    const wf = Workflow.from_yaml(manifest("s3-data-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: make, template: make}
    - - {name: list, template: list}
  - name: make
    container: {image: alpine, command: [sh, -c, "mkdir -p /tmp/d/sub; echo 1 > /tmp/d/b.log; echo 2 > /tmp/d/sub/a.log; echo 3 > /tmp/d/c.txt"]}
    outputs: {artifacts: [{name: d, path: /tmp/d, archive: {none: {}}, s3: ${s3("listed/d")}}]}
  - name: list
    data:
      source: {artifactPaths: {name: d, s3: ${s3("listed")}}}
      transformation: [{expression: 'filter(data, {# endsWith ".log"})'}]
${keys()}`);
    expect((await wf.submit()).phase).toBe("Succeeded");
    expect(Object.values(wf.status()!.nodes).find((n) => n.displayName === "list")!.outputs?.result).toBe('["listed/d/b.log","listed/d/sub/a.log"]');
  });

  it("fail the node that reads a key the bucket does not have, and refuse an s3 location whose keys are not given", async () => {
    const wf = Workflow.from_yaml(manifest("s3-missing-")`
  entrypoint: read
  templates:
  - name: read
    inputs: {artifacts: [{name: in, path: /tmp/in.txt, s3: ${s3("nothing/here")}}]}
    container: {image: alpine, command: [cat, /tmp/in.txt]}
${keys()}`);
    expect((await wf.submit()).phase).toBe("Error");
    const [node] = Object.values(wf.status()!.nodes);
    expect(node.message).toBe(`inputs.artifacts.in: s3://results/nothing/here at ${new URL(store.base).host}: no such key`);
    expect(() =>
      Workflow.from_yaml(manifest("s3-nokeys-")`
  entrypoint: read
  templates:
  - name: read
    inputs: {artifacts: [{name: in, path: /tmp/in.txt, s3: ${s3("k")}}]}
    container: {image: alpine, command: [cat, /tmp/in.txt]}
`),
    ).toThrow(/^templates\.read\.inputs\.artifacts\.in\.s3\.accessKeySecret needs Secret s3-keys, which is not given/);
  });
});
