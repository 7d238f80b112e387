// Artifacts outside the local repository, moved by this process as Argo's
// executor moves them around a pod: an `http` input is the body of a GET of
// its URL (its headers sent), a `git` one a clone of its repository (depth,
// branch, fetch refspecs, revision, submodules), an `s3` one with an endpoint
// an object (or the objects under a prefix) of that bucket, and an `s3`
// output is put there, as a .tgz unless `archive: {none: {}}`. Inputs land in
// the local repository under a key of the run and are placed (a tarball
// unpacked) as any input artifact is. Git credentials from Secrets are
// refused at check time (check.ts): this machine's own git configuration and
// credential helpers are what a local clone uses; S3 keys come from Secrets
// given locally.
import { execFile } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { type Obj, asList, asObj } from "./manifest.js";
import { filesUnder } from "../store/fsx.js";

const run = promisify(execFile);

/** The fields of http and git artifacts a local run honours. */
export const HTTP_FIELDS = ["url", "headers", "auth"];
export const GIT_FIELDS = ["repo", "revision", "depth", "fetch", "singleBranch", "branch", "disableSubmodules", "insecureIgnoreHostKey"];
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
  if (!names.length) throw new Error(`${where}: ${s3Name(s3)} at ${String(s3.endpoint)}: no such key`);
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

/** Put `src` (a file or a directory) at `s3.key`: a .tgz of it as Argo archives outputs, or as it is with `archive: {none: {}}`. */
export async function putS3Artifact(s3: Obj, keys: S3Keys, src: string, archive: Obj, where: string): Promise<void> {
  const client = await s3Client(s3, keys);
  const bucket = String(s3.bucket);
  const key = String(s3.key);
  try {
    if (s3.createBucketIfNotPresent !== undefined && !(await client.bucketExists(bucket))) await client.makeBucket(bucket, s3.region ? String(s3.region) : undefined);
    if (archive.none !== undefined) {
      if (fs.statSync(src).isFile()) await client.fPutObject(bucket, key, src);
      else for (const f of filesUnder(src)) await client.fPutObject(bucket, `${key.replace(/\/$/, "")}/${f}`, path.join(src, f));
      return;
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-s3-"));
    try {
      const tgz = path.join(tmp, "artifact.tgz");
      const tar = await import("tar");
      await tar.c({ gzip: true, file: tgz, cwd: path.dirname(src), portable: true }, [path.basename(src)]);
      await client.fPutObject(bucket, key, tgz);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    throw s3Error(where, s3, e);
  }
}

/** GET `http.url` into the file `dest`; an Error naming the artifact and the answer when it is not a 2xx. */
/**
 * GET an http artifact as Argo's http driver does: its headers, and its `auth` from Secrets
 * (`secret` reads one, given locally; check.ts made sure it is): basicAuth, or oauth2's client
 * credentials (golang.org/x/oauth2/clientcredentials: the token asked for with the client's id and
 * secret as Basic credentials, then in the form if the server refuses those, its type as Go
 * spells it). clientCert is refused before the run (check.ts).
 */
export async function fetchHttpArtifact(http: Obj, dest: string, where: string, secret: (ref: unknown) => string = () => ""): Promise<void> {
  const url = String(http.url ?? "");
  const headers: Record<string, string> = Object.fromEntries(asList(http.headers).map((h) => [String(h.name), String(h.value ?? "")]));
  const auth = asObj(http.auth);
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const get = async (u: string, init: RequestInit, what: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(u, { redirect: "follow", ...init });
    } catch (e) {
      const err = e as Error & { cause?: { message?: string } };
      throw new Error(`${where}: ${what} ${u}: ${err.cause?.message ?? err.message}`);
    }
    return res;
  };
  if (auth.basicAuth !== undefined) {
    const b = asObj(auth.basicAuth);
    headers.Authorization = basic(secret(b.usernameSecret), secret(b.passwordSecret));
  } else if (auth.oauth2 !== undefined) {
    const o = asObj(auth.oauth2);
    const tokenURL = secret(o.tokenURLSecret);
    const id = secret(o.clientIDSecret);
    const key = secret(o.clientSecretSecret);
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    const scopes = asList(o.scopes).map(String);
    if (scopes.length) form.set("scope", scopes.join(" "));
    for (const p of asList(o.endpointParams)) form.append(String(p.key), String(p.value ?? ""));
    const ask = (body: URLSearchParams, extra: Record<string, string>) =>
      get(tokenURL, { method: "POST", body, headers: { "Content-Type": "application/x-www-form-urlencoded", ...extra } }, "POST (oauth2 token)");
    let res = await ask(form, { Authorization: basic(encodeURIComponent(id), encodeURIComponent(key)) });
    if (res.status >= 400 && res.status < 500) {
      const inForm = new URLSearchParams(form);
      inForm.set("client_id", id);
      inForm.set("client_secret", key);
      res = await ask(inForm, {});
    }
    const text = await res.text();
    let token: { access_token?: unknown; token_type?: unknown } = {};
    try {
      token = JSON.parse(text) as typeof token;
    } catch {
      // a form-encoded answer, as some servers give
      token = Object.fromEntries(new URLSearchParams(text));
    }
    if (!res.ok || typeof token.access_token !== "string" || !token.access_token) throw new Error(`${where}: oauth2 token from ${tokenURL}: ${res.ok ? "no access_token in the answer" : `${res.status} ${res.statusText}`}`);
    const type = String(token.token_type ?? "Bearer");
    const spelled = ({ bearer: "Bearer", mac: "MAC", basic: "Basic" } as Record<string, string>)[type.toLowerCase()] ?? type;
    headers.Authorization = `${spelled} ${token.access_token}`;
  }
  const res = await get(url, { headers }, "GET");
  if (!res.ok) throw new Error(`${where}: GET ${url}: ${res.status} ${res.statusText}`);
  await fsp.writeFile(dest, Buffer.from(await res.arrayBuffer()));
}

/** Clone `git.repo` into the directory `dest` as Argo's git driver does; git's own message when it fails. */
export async function cloneGitArtifact(git: Obj, dest: string, where: string): Promise<void> {
  const repo = String(git.repo ?? "");
  const depth = Number(git.depth ?? 0);
  const git_ = async (args: string[], cwd?: string) => {
    try {
      await run("git", args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...(git.insecureIgnoreHostKey === true ? { GIT_SSH_COMMAND: "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" } : {}) } });
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
