// Artifacts outside the local repository (engine/argo/remote.ts): inputs from
// an http URL or a git repository, fetched before the pod starts, and s3
// buckets with an endpoint, read and written, against a real HTTP server, a
// real git repository of this machine and a real S3 API (dflow server's, in
// a process of its own); what cannot be honoured is refused in one line.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { unzipSync } from "fflate";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Workflow } from "../../src/workflow.js";
import { type DflowServer, startDflowServer } from "../support/ui.js";
import { manifest } from "../support/argo.js";
import { useArgoWorkdir } from "../support/workdir.js";

useArgoWorkdir("argo-remote-");
const cli = path.join(import.meta.dirname, "..", "..", "dist", "src", "cli.js");
let server: http.Server;
let base = "";
/** What was PUT to the server's /store/, by name. */
const stored = new Map<string, Buffer>();
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
    // webHDFS's way: the name node sends a CREATE on to where the data goes, with a 307 (the body sent again).
    if (req.url?.startsWith("/webhdfs/v1/") && req.method === "PUT") {
      req.resume();
      req.on("end", () => {
        res.writeHead(307, { Location: `/store/${new URL(req.url!, base).pathname.slice("/webhdfs/v1/".length)}` });
        res.end();
      });
      return;
    }
    // A store of uploads, as Artifactory keeps them: PUT with the Basic credentials (or the token header of an http location), GET with them.
    if (req.url?.startsWith("/store/")) {
      const allowed = req.headers.authorization === `Basic ${Buffer.from("alice:s3cret").toString("base64")}` || req.headers["x-token"] === "abc";
      if (!allowed) {
        res.statusCode = 403;
        return void res.end("no");
      }
      if (req.method === "PUT") {
        const parts: Buffer[] = [];
        req.on("data", (c: Buffer) => parts.push(c));
        req.on("end", () => {
          stored.set(req.url!.slice("/store/".length), Buffer.concat(parts));
          res.statusCode = 201;
          res.end();
        });
        return;
      }
      const body = stored.get(req.url.slice("/store/".length));
      res.statusCode = body ? 200 : 404;
      return void res.end(body ?? "no");
    }
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
    // A Secret that is not given is refused before anything runs.
    expect(() => Workflow.from_yaml(authed.replace("metadata: {name: web}", "metadata: {name: elsewhere}"))).toThrow(/http\.auth\.basicAuth\.usernameSecret.*web/);
  });

  it("refuse, before anything runs, git credentials from Secrets, git outputs and stores not available here", () => {
    const withSecret = fetching().replace("revision: v1}", "revision: v1, usernameSecret: {name: creds, key: user}}");
    expect(() => Workflow.from_yaml(withSecret)).toThrow("templates.main.steps[0].tagged.arguments.artifacts.src.git.usernameSecret is not supported when running Argo workflows locally: credentials from Secrets are not used locally: the clone uses this machine's git configuration (credential helpers, ssh keys); drop it");
    const output = (loc: string) => fetching().replace("    container: {image: alpine, command: [cat, /src/version.txt]}", `    container: {image: alpine, command: [cat, /src/version.txt]}\n    outputs: {artifacts: [{name: o, path: /tmp/o, ${loc}}]}`);
    expect(() => Workflow.from_yaml(output(`git: {repo: "${repo}"}`))).toThrow("templates.show.outputs.artifacts.o.git is not supported when running Argo workflows locally: git artifacts are inputs only, as on Argo (its git driver saves nothing)");
    expect(() => Workflow.from_yaml(output("gcs: {bucket: b, key: k}"))).toThrow("templates.show.outputs.artifacts.o.gcs is not supported when running Argo workflows locally: only the local default repository (key-only s3), s3 buckets with an endpoint, http and Artifactory locations, raw and from: artifacts, and git inputs, are available locally");
    expect(() => Workflow.from_yaml(output(`artifactory: {url: "${base}/store/o"}`))).toThrow("invalid spec: templates.show.outputs.artifacts.o.artifactory.usernameSecret is required");
    expect(() => Workflow.from_yaml(output(`archive: {tar: {compressionLevel: 12}}, http: {url: "${base}/store/o"}`))).toThrow("invalid spec: templates.show.outputs.artifacts.o.archive.tar.compressionLevel must be a gzip level, -2 to 9 (got 12)");
  });
});

describe("http and Artifactory outputs", () => {
  const secret = `---
apiVersion: v1
kind: Secret
metadata: {name: web}
stringData: {user: alice, password: s3cret}
`;
  const artifactory = (name: string) => `{url: "${base}/store/${name}", usernameSecret: {name: web, key: user}, passwordSecret: {name: web, key: password}}`;

  it("are PUT as Argo packs them (a .tgz, a .zip, or the file itself, after a 307 too), and read back from Artifactory, a zip unpacked where the input says so", async () => {
    const wf = Workflow.from_yaml(manifest("http-out-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: make, template: make}
    - - {name: read-tgz, template: read, arguments: {artifacts: [{name: in, artifactory: ${artifactory("d.tgz")}}]}}
      - {name: read-zip, template: read-zip, arguments: {artifacts: [{name: in, artifactory: ${artifactory("d.zip")}}]}}
  - name: make
    container: {image: alpine, command: [sh, -c, "mkdir -p /tmp/d && echo one > /tmp/d/a.txt && echo two > /tmp/d/b.txt && echo plain > /tmp/p.txt"]}
    outputs:
      artifacts:
      - {name: d, path: /tmp/d, artifactory: ${artifactory("d.tgz")}}
      - {name: z, path: /tmp/d, archive: {zip: {}}, artifactory: ${artifactory("d.zip")}}
      - {name: p, path: /tmp/p.txt, archive: {none: {}}, http: {url: "${base}/webhdfs/v1/p.txt?op=CREATE&overwrite=true", headers: [{name: X-Token, value: abc}]}}
  - name: read
    inputs: {artifacts: [{name: in, path: /tmp/in}]}
    container: {image: alpine, command: [sh, -c, "cat /tmp/in/a.txt /tmp/in/b.txt"]}
  - name: read-zip
    inputs: {artifacts: [{name: in, path: /tmp/in, archive: {zip: {}}}]}
    container: {image: alpine, command: [sh, -c, "cat /tmp/in/a.txt /tmp/in/b.txt"]}
${secret}`);
    expect((await wf.submit()).phase).toBe("Succeeded");
    expect(stored.get("p.txt")?.toString()).toBe("plain\n");
    expect([...stored.get("d.tgz")!.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    // util/archive's ZipToWriter: a directory's files under its name.
    expect(Object.keys(unzipSync(stored.get("d.zip")!)).sort()).toEqual(["d/a.txt", "d/b.txt"]);
    const result = (name: string) => Object.values(wf.status()!.nodes).find((n) => n.displayName === name)!.outputs?.result;
    expect([result("read-tgz"), result("read-zip")]).toEqual(["one\ntwo", "one\ntwo"]);
  });

  it("fail the node with the server's answer to a PUT; an optional input the server does not have is left out", async () => {
    const wf = Workflow.from_yaml(manifest("http-refused-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: put, template: put}
      - {name: maybe, template: maybe}
  - name: put
    container: {image: alpine, command: [sh, -c, "echo x > /tmp/p.txt"]}
    outputs: {artifacts: [{name: p, path: /tmp/p.txt, http: {url: "${base}/store/p2.txt", headers: [{name: X-Token, value: wrong}]}}]}
  - name: maybe
    inputs: {artifacts: [{name: m, path: /tmp/m.txt, optional: true, http: {url: "${base}/nothing.txt"}}]}
    container: {image: alpine, command: [sh, -c, "test -e /tmp/m.txt || echo absent"]}
`);
    expect((await wf.submit()).phase).toBe("Failed");
    const node = (name: string) => Object.values(wf.status()!.nodes).find((n) => n.displayName === name)!;
    expect(node("put")).toMatchObject({ phase: "Error", message: `outputs.artifacts.p: PUT ${base}/store/p2.txt: 403 Forbidden` });
    expect(node("maybe")).toMatchObject({ phase: "Succeeded", outputs: { result: "absent" } });
    expect(stored.has("p2.txt")).toBe(false);
  });
});

describe("an https location that asks for a client certificate", () => {
  let tls: https.Server;
  let dir = "";
  let url = "";
  const pem = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  beforeAll(async () => {
    // A CA of the test's own, a server certificate for 127.0.0.1 and a client's, both signed by it.
    dir = fs.mkdtempSync(path.join(host, "tls-"));
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=dflow-ts test CA");
    fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\n");
    for (const who of ["server", "client"]) {
      openssl("req", ...ec, "-keyout", `${who}.key`, "-out", `${who}.csr`, "-subj", `/CN=${who}`);
      openssl("x509", "-req", "-in", `${who}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${who}.pem`, "-days", "2", ...(who === "server" ? ["-extfile", "server.ext"] : []));
    }
    tls = https.createServer({ key: pem("server.key"), cert: pem("server.pem"), ca: pem("ca.pem"), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate();
      res.end(`hello ${peer.subject?.CN}\n`);
    });
    await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/page.txt`;
  });
  afterAll(async () => {
    await new Promise((r) => tls?.close(r));
  });

  it("is read with the certificate from a Secret; without it the server's refusal fails the node", async () => {
    const cwd = fs.mkdtempSync(path.join(host, "tls-run-"));
    const wf = (auth: string) => manifest("client-cert-")`
  entrypoint: get
  templates:
  - name: get
    inputs: {artifacts: [{name: page, path: /tmp/page.txt, http: {url: "${url}"${auth}}}]}
    container: {image: alpine, command: [cat, /tmp/page.txt]}
---
apiVersion: v1
kind: Secret
metadata: {name: client-tls}
stringData:
  cert: ${JSON.stringify(pem("client.pem"))}
  key: ${JSON.stringify(pem("client.key"))}
`;
    fs.writeFileSync(path.join(cwd, "with.yaml"), wf(", auth: {clientCert: {clientCertSecret: {name: client-tls, key: cert}, clientKeySecret: {name: client-tls, key: key}}}"));
    fs.writeFileSync(path.join(cwd, "without.yaml"), wf(""));
    // The server's certificate is checked as Go checks it, against the authorities this machine trusts: the test's CA added as a user adds theirs.
    const env = { NODE_EXTRA_CA_CERTS: path.join(dir, "ca.pem") };
    const ok = await execa(process.execPath, [cli, "run", "with.yaml"], { cwd, env, reject: false, all: true });
    expect(ok.exitCode, ok.all).toBe(0);
    const id = /ID: (\S+)\)/.exec(ok.all)![1]!;
    expect((await execa(process.execPath, [cli, "logs", id], { cwd, env, all: true })).all).toContain("hello client");
    const refused = await execa(process.execPath, [cli, "run", "without.yaml"], { cwd, env, reject: false, all: true });
    expect(refused.exitCode).toBe(1);
    // TLS 1.3 tells the refusal as an alert after the handshake; a server may also just close the connection.
    expect(refused.stderr).toMatch(new RegExp(`inputs\\.artifacts\\.page: GET ${url.replace(/[.]/g, "\\.")}: (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required|ECONNRESET)`));
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
