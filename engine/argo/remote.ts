// Artifacts outside the local repository, moved by this process as Argo's
// executor moves them around a pod: an `http` or `artifactory` input is the
// body of a GET of its URL, a `git` one a clone of its repository (depth,
// branch, fetch refspecs, revision, submodules), an `s3` one with an endpoint
// an object (or the objects under a prefix) of that bucket; an `http` or
// `artifactory` output is the body of a PUT, an `s3` one is put in its
// bucket, packed as Argo packs outputs (archive.ts). Inputs land in the local
// repository under a key of the run and are placed (an archive unpacked) as
// any input artifact is. Git credentials from Secrets are refused at check
// time (check.ts): this machine's own git configuration and credential
// helpers are what a local clone uses; other credentials come from Secrets
// given locally.
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { archived } from "./archive.js";
import { type Obj, asList, asObj } from "./manifest.js";
import { filesUnder } from "../store/fsx.js";

const run = promisify(execFile);

/** The fields of http, Artifactory and git artifacts a local run honours. */
// saveStreamViaFile: a PUT here is always of a file, sent again on a 307.
export const HTTP_FIELDS = ["url", "headers", "auth", "saveStreamViaFile"];
export const ARTIFACTORY_FIELDS = ["url", "usernameSecret", "passwordSecret"];
export const GIT_FIELDS = ["repo", "revision", "depth", "fetch", "singleBranch", "branch", "disableSubmodules", "insecureIgnoreHostKey", "insecureSkipTLS"];
/** An s3 location with its own endpoint; `key` alone is the local repository's. */
export const S3_FIELDS = ["key", "endpoint", "bucket", "region", "insecure", "accessKeySecret", "secretKeySecret", "createBucketIfNotPresent"];

export interface S3Keys {
  accessKey: string;
  secretKey: string;
}

/** minio's client (loaded when an s3 artifact with an endpoint is met: most runs have none). */
async function s3Client(s3: Obj, keys: S3Keys) {
  const { Client } = await import("minio");
  const endpoint = String(s3.endpoint);
  const [host, port] = endpoint.includes(":") ? [endpoint.slice(0, endpoint.lastIndexOf(":")), endpoint.slice(endpoint.lastIndexOf(":") + 1)] : [endpoint, ""];
  return new Client({ endPoint: host, ...(port ? { port: Number(port) } : {}), useSSL: s3.insecure !== true, accessKey: keys.accessKey, secretKey: keys.secretKey, ...(s3.region ? { region: String(s3.region) } : {}) });
}

const s3Name = (s3: Obj) => `s3://${String(s3.bucket)}/${String(s3.key)}`;

function s3Error(where: string, s3: Obj, e: unknown): Error {
  const err = e as Error & { code?: string; cause?: { message?: string } };
  return new Error(`${where}: ${s3Name(s3)} at ${String(s3.endpoint)}: ${err.code ? `${err.code}: ` : ""}${err.cause?.message ?? err.message}`);
}

/** The object `s3.key` into the file `dest`, or (a prefix, as Argo stores a directory unarchived) its objects into the directory `dest`. */
export async function fetchS3Artifact(s3: Obj, keys: S3Keys, dest: string, where: string): Promise<void> {
  const client = await s3Client(s3, keys);
  const bucket = String(s3.bucket);
  const key = String(s3.key);
  try {
    await client.statObject(bucket, key);
    await client.fGetObject(bucket, key, dest);
    return;
  } catch (e) {
    if ((e as { code?: string }).code !== "NotFound" && (e as { code?: string }).code !== "NoSuchKey") throw s3Error(where, s3, e);
  }
  // No such object: a prefix, as Argo stores a directory unarchived.
  const names = await listS3Keys(s3, keys, where);
  if (!names.length) throw new RemoteArtifactError(`${where}: ${s3Name(s3)} at ${String(s3.endpoint)}: no such key`, true);
  const prefix = `${key.replace(/\/+$/, "")}/`;
  try {
    for (const name of names) await client.fGetObject(bucket, name, path.join(dest, name.slice(prefix.length)));
  } catch (e) {
    throw s3Error(where, s3, e);
  }
}

/** The keys of the objects under `s3.key` (a prefix; the whole bucket without one), as Argo's executor lists them for a data template. */
export async function listS3Keys(s3: Obj, keys: S3Keys, where: string): Promise<string[]> {
  const client = await s3Client(s3, keys);
  const key = String(s3.key ?? "").replace(/\/+$/, "");
  const out: string[] = [];
  try {
    for await (const o of client.listObjectsV2(String(s3.bucket), key ? `${key}/` : "", true) as AsyncIterable<{ name?: string }>) {
      // A key ending in / is a folder's marker (what S3 consoles create), not an object.
      if (o.name && !o.name.endsWith("/")) out.push(o.name);
    }
  } catch (e) {
    throw s3Error(where, s3, e);
  }
  return out;
}

/** Put `src` (a file or a directory) at `s3.key`, packed as Argo packs outputs (archive.ts): a directory unpacked goes as its files under the key. */
export async function putS3Artifact(s3: Obj, keys: S3Keys, src: string, name: string, archive: Obj, where: string): Promise<void> {
  const client = await s3Client(s3, keys);
  const bucket = String(s3.bucket);
  const key = String(s3.key);
  try {
    if (s3.createBucketIfNotPresent !== undefined && !(await client.bucketExists(bucket))) await client.makeBucket(bucket, s3.region ? String(s3.region) : undefined);
    await archived(src, name, archive, async (file) => {
      if (fs.statSync(file).isFile()) await client.fPutObject(bucket, key, file);
      else for (const f of filesUnder(file)) await client.fPutObject(bucket, `${key.replace(/\/$/, "")}/${f}`, path.join(file, f));
    });
  } catch (e) {
    throw s3Error(where, s3, e);
  }
}

/** What a request to an http or Artifactory location sends besides its method and body. */
interface Sending {
  headers: Record<string, string>;
  /** A client certificate and its key (PEM), presented over TLS. */
  tls?: { cert: string; key: string };
}

/** A location that cannot be read or written; `notFound` for a 404 or a missing key (an optional input is then skipped, as Argo skips it). */
export class RemoteArtifactError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
  }
}

/**
 * One request as Go's http client sends it: redirects followed (at most 10; a 307/308 sends
 * the body again, a 301/302/303 asks with GET; credentials not sent to another host), a
 * client certificate presented when given; the answer's body left to the caller.
 */
async function send(method: string, url: string, how: Sending, body: (() => Readable) | undefined, what: string): Promise<http.IncomingMessage> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RemoteArtifactError(`${what}: not a URL`);
  }
  let headers = { ...how.headers };
  for (let hop = 0; ; hop++) {
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new RemoteArtifactError(`${what}: unsupported protocol ${u.protocol}`);
    const tls = u.protocol === "https:" && how.tls ? { cert: how.tls.cert, key: how.tls.key, agent: false as const } : {};
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = (u.protocol === "https:" ? https : http).request(u, { method, headers, ...tls }, resolve);
      req.on("error", reject);
      if (!body) return void req.end();
      const stream = body();
      stream.on("error", (e) => req.destroy(e));
      stream.pipe(req);
    }).catch((e: Error & { code?: string; reason?: string }) => {
      // OpenSSL's errors carry its internals in the message; their reason is what a user can act on.
      const text = e.reason ?? e.message;
      throw new RemoteArtifactError(`${what}: ${e.code && !text.includes(e.code) ? `${e.code}: ` : ""}${text}`);
    });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || !location) return res;
    res.resume();
    if (hop === 9) throw new RemoteArtifactError(`${what}: stopped after 10 redirects`);
    const next = new URL(location, u);
    // Go's client keeps credentials for the same host and its subdomains only (shouldCopyHeaderOnRedirect).
    if (next.hostname !== u.hostname && !next.hostname.endsWith(`.${u.hostname}`)) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !["authorization", "www-authenticate", "cookie", "cookie2"].includes(k.toLowerCase())));
    }
    if (status !== 307 && status !== 308 && method !== "GET" && method !== "HEAD") {
      method = "GET";
      body = undefined;
      delete headers["Content-Length"];
    }
    u = next;
  }
}

const succeeded = (res: http.IncomingMessage) => (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;

async function textOf(res: http.IncomingMessage): Promise<string> {
  let text = "";
  res.setEncoding("utf8");
  for await (const chunk of res) text += chunk as string;
  return text;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/**
 * An oauth2 client-credentials token as golang.org/x/oauth2/clientcredentials asks for it: the
 * client's id and secret as Basic credentials, then in the form if the server refuses those; its
 * type as Go spells it, for the Authorization header.
 */
async function oauth2Token(o: Obj, where: string, secret: (ref: unknown) => string): Promise<string> {
  const tokenURL = secret(o.tokenURLSecret);
  const id = secret(o.clientIDSecret);
  const key = secret(o.clientSecretSecret);
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  const scopes = asList(o.scopes).map(String);
  if (scopes.length) form.set("scope", scopes.join(" "));
  for (const p of asList(o.endpointParams)) form.append(String(p.key), String(p.value ?? ""));
  const post = async (body: URLSearchParams, extra: Record<string, string>) => {
    const text = body.toString();
    const res = await send("POST", tokenURL, { headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(Buffer.byteLength(text)), ...extra } }, () => Readable.from([text]), `${where}: POST (oauth2 token) ${tokenURL}`);
    return { res, text: await textOf(res) };
  };
  let answer = await post(form, { Authorization: basic(encodeURIComponent(id), encodeURIComponent(key)) });
  if ((answer.res.statusCode ?? 0) >= 400 && (answer.res.statusCode ?? 0) < 500) {
    const inForm = new URLSearchParams(form);
    inForm.set("client_id", id);
    inForm.set("client_secret", key);
    answer = await post(inForm, {});
  }
  let token: { access_token?: unknown; token_type?: unknown } = {};
  try {
    token = JSON.parse(answer.text) as typeof token;
  } catch {
    // a form-encoded answer, as some servers give
    token = Object.fromEntries(new URLSearchParams(answer.text));
  }
  const ok = succeeded(answer.res);
  if (!ok || typeof token.access_token !== "string" || !token.access_token) throw new RemoteArtifactError(`${where}: oauth2 token from ${tokenURL}: ${ok ? "no access_token in the answer" : `${answer.res.statusCode} ${answer.res.statusMessage}`}`);
  const type = String(token.token_type ?? "Bearer");
  const spelled = ({ bearer: "Bearer", mac: "MAC", basic: "Basic" } as Record<string, string>)[type.toLowerCase()] ?? type;
  return `${spelled} ${token.access_token}`;
}

/**
 * How Argo's http driver reaches an `http` or `artifactory` location (workflow/artifacts/artifacts.go
 * and http/clients.go): an http location's headers, then its `auth` from Secrets (`secret` reads one,
 * given locally; check.ts made sure it is): basicAuth (sent when both values are set), oauth2's
 * client credentials (oauth2Token), a client certificate presented over TLS (a server certificate is checked against
 * Node's bundled authorities and NODE_EXTRA_CA_CERTS's, not the system store unless Node is told to
 * use it, e.g. NODE_OPTIONS=--use-openssl-ca). An Artifactory location: its usernameSecret and
 * passwordSecret as Basic credentials, always.
 */
async function sending(loc: Obj, where: string, secret: (ref: unknown) => string): Promise<{ url: string; how: Sending }> {
  if (loc.artifactory !== undefined) {
    const a = asObj(loc.artifactory);
    return { url: String(a.url ?? ""), how: { headers: { Authorization: basic(secret(a.usernameSecret), secret(a.passwordSecret)) } } };
  }
  const h = asObj(loc.http);
  const how: Sending = { headers: Object.fromEntries(asList(h.headers).map((x) => [String(x.name), String(x.value ?? "")])) };
  const auth = asObj(h.auth);
  const cert = asObj(auth.clientCert);
  if (cert.clientCertSecret !== undefined && cert.clientKeySecret !== undefined) how.tls = { cert: secret(cert.clientCertSecret), key: secret(cert.clientKeySecret) };
  const o = asObj(auth.oauth2);
  const bearer = !how.tls && o.clientIDSecret !== undefined && o.clientSecretSecret !== undefined && o.tokenURLSecret !== undefined ? await oauth2Token(o, where, secret) : undefined;
  // Basic credentials go on the request; oauth2's transport then puts its token over them.
  const b = asObj(auth.basicAuth);
  const user = b.usernameSecret !== undefined ? secret(b.usernameSecret) : "";
  const password = b.passwordSecret !== undefined ? secret(b.passwordSecret) : "";
  if (user && password) how.headers.Authorization = basic(user, password);
  if (bearer) how.headers.Authorization = bearer;
  return { url: String(h.url ?? ""), how };
}

/** GET an `http` or `artifactory` location (`loc` holds one) into the file `dest`, as Argo's http driver loads it. */
export async function fetchHttpArtifact(loc: Obj, dest: string, where: string, secret: (ref: unknown) => string = () => ""): Promise<void> {
  const { url, how } = await sending(loc, where, secret);
  const res = await send("GET", url, how, undefined, `${where}: GET ${url}`);
  if (!succeeded(res)) {
    res.resume();
    throw new RemoteArtifactError(`${where}: GET ${url}: ${res.statusCode} ${res.statusMessage ?? ""}`.trimEnd(), res.statusCode === 404);
  }
  try {
    await pipeline(res, fs.createWriteStream(dest));
  } catch (e) {
    throw new RemoteArtifactError(`${where}: GET ${url}: ${(e as Error).message}`);
  }
}

/** PUT `src` (packed as `archive` says: archive.ts) to an `http` or `artifactory` location, as Argo's http driver saves an output. */
export async function putHttpArtifact(loc: Obj, src: string, name: string, archive: Obj, where: string, secret: (ref: unknown) => string = () => ""): Promise<void> {
  const { url, how } = await sending(loc, where, secret);
  await archived(src, name, archive, async (file) => {
    // A directory has no body of its own: Argo's driver fails to read it, after packing it was not asked for.
    const st = fs.statSync(file);
    if (!st.isFile()) throw new RemoteArtifactError(`${where}: ${src} is a directory, which cannot be the body of a PUT with archive none: leave archive out (a .tgz) or give zip`);
    const res = await send("PUT", url, { ...how, headers: { ...how.headers, "Content-Length": String(st.size) } }, () => fs.createReadStream(file), `${where}: PUT ${url}`);
    res.resume();
    if (!succeeded(res)) throw new RemoteArtifactError(`${where}: PUT ${url}: ${res.statusCode} ${res.statusMessage ?? ""}`.trimEnd());
  });
}

/** Clone `git.repo` into the directory `dest` as Argo's git driver does; git's own message when it fails. */
export async function cloneGitArtifact(git: Obj, dest: string, where: string): Promise<void> {
  const repo = String(git.repo ?? "");
  const depth = Number(git.depth ?? 0);
  const git_ = async (args: string[], cwd?: string) => {
    try {
      await run("git", args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...(git.insecureIgnoreHostKey === true ? { GIT_SSH_COMMAND: "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" } : {}), ...(git.insecureSkipTLS === true ? { GIT_SSL_NO_VERIFY: "true" } : {}) } });
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`${where}: git ${args[0]} ${repo}: ${(err.stderr ?? err.message).trim().split("\n").at(-1)}`);
    }
  };
  fs.rmSync(dest, { recursive: true, force: true });
  await git_(["clone", "--quiet", ...(depth > 0 ? ["--depth", String(depth)] : []), ...(git.singleBranch === true ? ["--single-branch"] : []), ...(git.branch ? ["--branch", String(git.branch)] : []), "--", repo, dest]);
  const refspecs = Array.isArray(git.fetch) ? (git.fetch as unknown[]).map(String) : [];
  if (refspecs.length) await git_(["fetch", "--quiet", ...(depth > 0 ? ["--depth", String(depth)] : []), "origin", ...refspecs], dest);
  if (git.revision) await git_(["checkout", "--quiet", String(git.revision)], dest);
  if (git.disableSubmodules !== true && fs.existsSync(`${dest}/.gitmodules`)) await git_(["submodule", "update", "--quiet", "--init", "--recursive", ...(depth > 0 ? ["--depth", String(depth)] : [])], dest);
}
