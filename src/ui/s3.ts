// The S3 API of the Argo runner's local artifact repository, served by
// `dflow server` on the port and with the token of the UI and the Argo API,
// so that dflow's Python client (default mode: minio-py) uploads the
// artifacts a workflow starts from and downloads what its steps produced,
// with its own code unchanged: DFLOW_S3_ENDPOINT is the server,
// DFLOW_S3_SECRET_KEY its token. An object is a file under the repository
// (.argo-artifacts), its key the path; a step's key-only `s3` artifact reads
// the same file. Requests are told from the UI's and Argo's by their AWS
// signature header and are checked against the token (any access key, any
// bucket name: there is one repository). What dflow, minio and the AWS SDKs
// use is here: bucket location and existence, ListObjects (V1 and V2),
// Get/Head/Put/Copy/Delete object with ranges, and multipart upload.
import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Context, Hono } from "hono";

const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
const TMP = ".s3-upload-";
const MAX_SKEW_MS = 15 * 60_000;

class S3Error extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 416 | 501,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ENTITIES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" };
const esc = (s: string) => s.replace(/[<>&'"]/g, (ch) => ENTITIES[ch]!);
const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
/** RFC 3986 encoding, as Signature V4 wants it (encodeURIComponent leaves !'()* alone). */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac("sha256", key).update(data).digest();
const sha256 = (data: string) => crypto.createHash("sha256").update(data).digest("hex");

function sendError(c: Context, e: S3Error, resource: string): Response {
  c.header("Content-Type", "application/xml");
  if (c.req.method === "HEAD") return c.body(null, e.status);
  return c.body(xml(`<Error><Code>${e.code}</Code><Message>${esc(e.message)}</Message><Resource>${esc(resource)}</Resource><RequestId>${crypto.randomUUID()}</RequestId></Error>`), e.status);
}

/** The query as sent: [name, value] decoded, in order. */
function queryPairs(search: string): Array<[string, string]> {
  if (!search || search === "?") return [];
  return search
    .replace(/^\?/, "")
    .split("&")
    .filter(Boolean)
    .map((kv) => {
      const i = kv.indexOf("=");
      const dec = (s: string) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, "%20"));
        } catch {
          return s; // not percent-encoding: signed as sent, it will not match
        }
      };
      return i < 0 ? [dec(kv), ""] : [dec(kv.slice(0, i)), dec(kv.slice(i + 1))];
    });
}

/** Check an AWS Signature V4 `Authorization` header against the secret key; the reason when it does not hold. */
export function checkSignature(req: { method: string; path: string; search: string; header(name: string): string | undefined }, secret: string, now = Date.now()): string | undefined {
  const auth = req.header("authorization") ?? "";
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]+)\s*$/i.exec(auth);
  if (!m) return "the Authorization header is not an AWS Signature V4 one";
  const [, credential, signedHeaders, signature] = m as unknown as [string, string, string, string];
  const scope = credential.split("/").slice(1); // date, region, service, aws4_request
  if (scope.length !== 4 || scope[3] !== "aws4_request") return `credential scope ${credential} is malformed`;
  const amzDate = req.header("x-amz-date") ?? "";
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when) return "the request has no valid X-Amz-Date header";
  const t = Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!);
  if (Math.abs(now - t) > MAX_SKEW_MS) return `the request was signed at ${amzDate}, more than 15 minutes from this machine's clock`;
  const headers = signedHeaders.toLowerCase().split(";");
  if (!headers.includes("host")) return "the signature does not cover the Host header";
  const canonicalHeaders = headers.map((h) => `${h}:${(req.header(h) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const query = queryPairs(req.search)
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const payload = req.header("x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD";
  const canonical = [req.method, req.path, query, canonicalHeaders, headers.join(";"), payload].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope.join("/"), sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scope[0]!), scope[1]!), scope[2]!), "aws4_request");
  const expected = hmac(key, toSign);
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return "signature does not match";
  return undefined;
}

/** The MD5 of a file, as its ETag; remembered while the file stays as it is. */
const md5Cache = new Map<string, { size: number; mtimeMs: number; md5: string }>();
async function etagOf(file: string, st: fs.Stats): Promise<string> {
  const hit = md5Cache.get(file);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return `"${hit.md5}"`;
  const h = crypto.createHash("md5");
  await pipeline(fs.createReadStream(file), h);
  const md5 = h.digest("hex");
  if (md5Cache.size > 10_000) md5Cache.clear();
  md5Cache.set(file, { size: st.size, mtimeMs: st.mtimeMs, md5 });
  return `"${md5}"`;
}

class Repository {
  constructor(readonly root: string) {}

  /** The file of a key; keys are paths, so `..`, `.` and empty segments are refused rather than mapped. */
  file(key: string): string {
    const parts = key.split("/");
    if (!key || key.startsWith("/") || parts.some((p, i) => p === ".." || p === "." || (p === "" && i < parts.length - 1)) || parts.at(-1) === "" || parts.at(-1)!.startsWith(TMP)) {
      throw new S3Error(400, "InvalidArgument", `object key ${JSON.stringify(key)} cannot name a file of the local artifact repository: keys here are paths (no empty, '.' or '..' segments, no trailing '/')`);
    }
    return path.join(this.root, ...parts);
  }

  async stat(key: string): Promise<fs.Stats> {
    const st = await fsp.stat(this.file(key)).catch(() => undefined);
    if (!st?.isFile()) throw new S3Error(404, "NoSuchKey", st ? `${key} is a directory of the local artifact repository (an artifact of several files): list it with the prefix ${key}/` : `no object ${key} in the local artifact repository (${this.root})`);
    return st;
  }

  /** Write an object from a stream: to a temporary file, checked, then renamed, so no reader sees half of it. */
  async put(key: string, body: Readable | null, sha256Hex: string | undefined): Promise<string> {
    const file = this.file(key);
    await this.makeParent(key, file);
    const tmp = path.join(path.dirname(file), `${TMP}${crypto.randomBytes(6).toString("hex")}`);
    const sha = crypto.createHash("sha256");
    const md5 = crypto.createHash("md5");
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        sha.update(chunk);
        md5.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body ?? Readable.from([]), tap, fs.createWriteStream(tmp));
      if (sha256Hex && sha.digest("hex") !== sha256Hex.toLowerCase()) throw new S3Error(400, "XAmzContentSHA256Mismatch", "the body does not match its X-Amz-Content-Sha256 header");
      await this.replace(key, file, tmp);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    return `"${md5.digest("hex")}"`;
  }

  async copy(from: string, to: string): Promise<void> {
    await this.stat(from);
    const file = this.file(to);
    await this.makeParent(to, file);
    const tmp = path.join(path.dirname(file), `${TMP}${crypto.randomBytes(6).toString("hex")}`);
    try {
      await fsp.copyFile(this.file(from), tmp);
      await this.replace(to, file, tmp);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  private async makeParent(key: string, file: string): Promise<void> {
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOTDIR" || (e as NodeJS.ErrnoException).code === "EEXIST") throw new S3Error(409, "ParentIsObject", `cannot write ${key}: a key above it is an object (a file) of the local artifact repository, where keys are paths`);
      throw e;
    }
  }

  private async replace(key: string, file: string, tmp: string): Promise<void> {
    if ((await fsp.stat(file).catch(() => undefined))?.isDirectory()) throw new S3Error(409, "ObjectIsDirectory", `cannot write ${key}: it is a directory of the local artifact repository (an artifact of several files), where keys are paths`);
    await fsp.rename(tmp, file);
  }

  /** Every object whose key starts with `prefix`, sorted as S3 sorts them (by their UTF-8 bytes). */
  async keys(prefix: string): Promise<string[]> {
    const base = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
        if (e.isDirectory()) await walk(path.join(dir, e.name), key);
        else if ((e.isFile() || (e.isSymbolicLink() && (await fsp.stat(path.join(dir, e.name)).catch(() => undefined))?.isFile())) && !e.name.startsWith(TMP)) out.push(key);
      }
    };
    if (base.split("/").some((p) => p === ".." || p === ".")) return [];
    await walk(path.join(this.root, ...base.split("/").filter(Boolean)), base.split("/").filter(Boolean).join("/"));
    return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }
}

function range(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return undefined;
  let start: number;
  let end: number;
  if (!m[1]) {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  }
  if (start >= size || start > end) throw new S3Error(416, "InvalidRange", `range ${header} is outside the object's ${size} bytes`);
  return { start, end };
}

async function list(c: Context, repo: Repository, bucket: string): Promise<Response> {
  const q = (k: string) => c.req.query(k);
  const v2 = q("list-type") === "2";
  const prefix = q("prefix") ?? "";
  const delimiter = q("delimiter") ?? "";
  const maxKeys = Math.max(0, Math.min(1000, Number(q("max-keys") ?? "1000") || 1000));
  const urlEncoded = q("encoding-type") === "url";
  const enc = (s: string) => (urlEncoded ? rfc3986(s).replace(/%2F/g, "/") : s);
  let after = v2 ? (q("start-after") ?? "") : (q("marker") ?? "");
  const token = v2 ? q("continuation-token") : undefined;
  if (token) after = Buffer.from(token, "base64url").toString();
  // Keys and common prefixes in one sorted run, so that a page ends anywhere.
  const items: Array<{ key: string; prefix?: true }> = [];
  for (const key of await repo.keys(prefix)) {
    const rest = key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    if (cut >= 0) {
      const p = prefix + rest.slice(0, cut + delimiter.length);
      if (items.at(-1)?.key !== p) items.push({ key: p, prefix: true });
    } else items.push({ key });
  }
  const start = after ? items.findIndex((i) => Buffer.compare(Buffer.from(i.key), Buffer.from(after)) > 0) : 0;
  const page = start < 0 ? [] : items.slice(start, start + maxKeys);
  const truncated = start >= 0 && start + maxKeys < items.length;
  const contents: string[] = [];
  for (const i of page) {
    if (i.prefix) continue;
    const file = repo.file(i.key);
    const st = await fsp.stat(file);
    contents.push(`<Contents><Key>${esc(enc(i.key))}</Key><LastModified>${st.mtime.toISOString()}</LastModified><ETag>${esc(await etagOf(file, st))}</ETag><Size>${st.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
  }
  const prefixes = page.filter((i) => i.prefix).map((i) => `<CommonPrefixes><Prefix>${esc(enc(i.key))}</Prefix></CommonPrefixes>`);
  const last = page.at(-1)?.key ?? "";
  const paging = v2
    ? `<KeyCount>${page.length}</KeyCount>${token ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : ""}${q("start-after") ? `<StartAfter>${esc(enc(q("start-after")!))}</StartAfter>` : ""}${truncated ? `<NextContinuationToken>${Buffer.from(last).toString("base64url")}</NextContinuationToken>` : ""}`
    : `<Marker>${esc(enc(q("marker") ?? ""))}</Marker>${truncated ? `<NextMarker>${esc(enc(last))}</NextMarker>` : ""}`;
  c.header("Content-Type", "application/xml");
  return c.body(xml(`<ListBucketResult xmlns="${XMLNS}"><Name>${esc(bucket)}</Name><Prefix>${esc(enc(prefix))}</Prefix>${paging}<MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${esc(enc(delimiter))}</Delimiter>` : ""}${urlEncoded ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>${truncated}</IsTruncated>${contents.join("")}${prefixes.join("")}</ListBucketResult>`));
}

async function getObject(c: Context, repo: Repository, key: string): Promise<Response> {
  const st = await repo.stat(key);
  const file = repo.file(key);
  c.header("ETag", await etagOf(file, st));
  c.header("Last-Modified", st.mtime.toUTCString());
  c.header("Accept-Ranges", "bytes");
  c.header("Content-Type", "application/octet-stream");
  if (c.req.method === "HEAD") {
    c.header("Content-Length", String(st.size));
    return c.body(null, 200);
  }
  const r = range(c.req.header("range"), st.size);
  if (r) {
    c.header("Content-Range", `bytes ${r.start}-${r.end}/${st.size}`);
    c.header("Content-Length", String(r.end - r.start + 1));
    return c.body(Readable.toWeb(fs.createReadStream(file, r)) as ReadableStream, 206);
  }
  c.header("Content-Length", String(st.size));
  return c.body(Readable.toWeb(fs.createReadStream(file)) as ReadableStream, 200);
}

/** Multipart uploads: parts kept beside the repository until completed into one object. */
class Multipart {
  constructor(private readonly dir: string) {}

  private upload(id: string): string {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new S3Error(404, "NoSuchUpload", `no multipart upload ${id}`);
    return path.join(this.dir, id);
  }

  async create(key: string): Promise<string> {
    const id = crypto.randomUUID();
    await fsp.mkdir(this.upload(id), { recursive: true });
    await fsp.writeFile(path.join(this.upload(id), "key"), key);
    return id;
  }

  private async check(id: string, key: string): Promise<string> {
    const dir = this.upload(id);
    const owner = await fsp.readFile(path.join(dir, "key"), "utf8").catch(() => undefined);
    if (owner !== key) throw new S3Error(404, "NoSuchUpload", `no multipart upload ${id} for ${key}`);
    return dir;
  }

  async part(id: string, key: string, n: number, body: Readable | null, sha256Hex: string | undefined): Promise<string> {
    const dir = await this.check(id, key);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new S3Error(400, "InvalidArgument", `partNumber must be 1 to 10000, got ${n}`);
    return new Repository(dir).put(`part.${n}`, body, sha256Hex);
  }

  async complete(id: string, key: string, repo: Repository, xmlBody: string): Promise<void> {
    const dir = await this.check(id, key);
    const numbers = [...xmlBody.matchAll(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/g)].map((m) => Number(m[1]));
    if (!numbers.length) throw new S3Error(400, "MalformedXML", "CompleteMultipartUpload lists no parts");
    const parts = numbers.map((n) => path.join(dir, `part.${n}`));
    for (const [i, p] of parts.entries()) if (!fs.existsSync(p)) throw new S3Error(400, "InvalidPart", `part ${numbers[i]} of upload ${id} was never uploaded`);
    async function* all() {
      for (const p of parts) yield* fs.createReadStream(p);
    }
    await repo.put(key, Readable.from(all()), undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  }

  async abort(id: string, key: string): Promise<void> {
    await fsp.rm(await this.check(id, key), { recursive: true, force: true });
  }
}

/** Mount the S3 API on `app`, before everything else: it answers only requests signed the S3 way. */
export function mountS3(app: Hono, repoRoot: string, token: string | null): void {
  const repo = new Repository(repoRoot);
  const multipart = new Multipart(`${repoRoot}.multipart`);
  app.use("*", async (c, next) => {
    const auth = c.req.header("authorization") ?? "";
    const presigned = c.req.query("X-Amz-Algorithm") !== undefined;
    if (!/^AWS4?[- ]/i.test(auth) && !presigned) return next();
    // The target as sent: what the client signed, before any `.` or `..` segment is resolved away.
    const raw = (c.env as { incoming?: { url?: string } } | undefined)?.incoming?.url ?? `${new URL(c.req.url).pathname}${new URL(c.req.url).search}`;
    const cut = raw.indexOf("?");
    const rawPath = cut < 0 ? raw : raw.slice(0, cut);
    const search = cut < 0 ? "" : raw.slice(cut);
    const segments = rawPath.split("/").slice(1);
    let bucket = "";
    let key = "";
    try {
      bucket = decodeURIComponent(segments[0] ?? "");
      key = segments.slice(1).map((seg) => decodeURIComponent(seg)).join("/");
    } catch {
      return sendError(c, new S3Error(400, "InvalidURI", `${rawPath} is not valid percent-encoding`), rawPath);
    }
    const resource = rawPath;
    try {
      if (presigned || !auth.startsWith("AWS4-HMAC-SHA256")) throw new S3Error(501, "NotImplemented", "only requests signed with AWS Signature V4 in the Authorization header are served here (not presigned URLs or Signature V2)");
      if (token !== null) {
        const why = checkSignature({ method: c.req.method, path: rawPath, search, header: (h) => c.req.header(h) }, token);
        if (why) throw new S3Error(403, "SignatureDoesNotMatch", `${why}: sign with the token \`dflow server\` printed as the secret key (DFLOW_S3_SECRET_KEY=<token>; any access key)`);
      }
      const payload = c.req.header("x-amz-content-sha256");
      if (payload?.startsWith("STREAMING-")) throw new S3Error(501, "NotImplemented", `payload signing ${payload} (aws-chunked) is not served here; sign the whole body or send UNSIGNED-PAYLOAD`);
      const sha = payload && /^[0-9a-f]{64}$/i.test(payload) ? payload : undefined;
      const body = () => (c.req.raw.body ? Readable.fromWeb(c.req.raw.body as import("node:stream/web").ReadableStream) : null);
      const has = (k: string) => c.req.query(k) !== undefined;
      const m = c.req.method;
      c.header("x-amz-request-id", crypto.randomUUID());
      if (!bucket) {
        if (m !== "GET") throw new S3Error(501, "NotImplemented", `${m} / is not served here`);
        c.header("Content-Type", "application/xml");
        return c.body(xml(`<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>dflow</ID><DisplayName>dflow</DisplayName></Owner><Buckets></Buckets></ListAllMyBucketsResult>`));
      }
      if (!key) {
        // One repository under every bucket name: a bucket exists, can be "made", and is listed.
        if (m === "HEAD" || m === "PUT") return c.body(null, 200);
        if (m === "GET" && has("location")) {
          c.header("Content-Type", "application/xml");
          return c.body(xml(`<LocationConstraint xmlns="${XMLNS}"></LocationConstraint>`));
        }
        if (m === "GET" && has("uploads")) {
          // Unfinished uploads are not offered for resuming: a client starts a new one.
          c.header("Content-Type", "application/xml");
          return c.body(xml(`<ListMultipartUploadsResult xmlns="${XMLNS}"><Bucket>${esc(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`));
        }
        if (m === "GET" && !["policy", "versioning", "lifecycle", "notification", "tagging", "uploads", "acl", "cors", "encryption", "object-lock", "replication"].some(has)) return await list(c, repo, bucket);
        throw new S3Error(501, "NotImplemented", `${m} ${resource}${search} is not served here: the local artifact repository serves objects, listing and multipart upload`);
      }
      if (m === "GET" || m === "HEAD") return await getObject(c, repo, key);
      if (m === "PUT" && has("uploadId")) {
        c.header("ETag", await multipart.part(c.req.query("uploadId")!, key, Number(c.req.query("partNumber")), body(), sha));
        return c.body(null, 200);
      }
      if (m === "PUT" && c.req.header("x-amz-copy-source")) {
        const src = decodeURIComponent(c.req.header("x-amz-copy-source")!.split("?")[0]!).replace(/^\//, "");
        const from = src.slice(src.indexOf("/") + 1);
        await repo.copy(from, key);
        const st = await repo.stat(key);
        c.header("Content-Type", "application/xml");
        return c.body(xml(`<CopyObjectResult xmlns="${XMLNS}"><LastModified>${st.mtime.toISOString()}</LastModified><ETag>${esc(await etagOf(repo.file(key), st))}</ETag></CopyObjectResult>`));
      }
      if (m === "PUT") {
        c.header("ETag", await repo.put(key, body(), sha));
        return c.body(null, 200);
      }
      if (m === "POST" && has("uploads")) {
        repo.file(key);
        const id = await multipart.create(key);
        c.header("Content-Type", "application/xml");
        return c.body(xml(`<InitiateMultipartUploadResult xmlns="${XMLNS}"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`));
      }
      if (m === "POST" && has("uploadId")) {
        await multipart.complete(c.req.query("uploadId")!, key, repo, await c.req.text());
        const st = await repo.stat(key);
        c.header("Content-Type", "application/xml");
        return c.body(xml(`<CompleteMultipartUploadResult xmlns="${XMLNS}"><Location>${esc(resource)}</Location><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><ETag>${esc(await etagOf(repo.file(key), st))}</ETag></CompleteMultipartUploadResult>`));
      }
      if (m === "DELETE" && has("uploadId")) {
        await multipart.abort(c.req.query("uploadId")!, key);
        return c.body(null, 204);
      }
      if (m === "DELETE") {
        const file = repo.file(key);
        if ((await fsp.stat(file).catch(() => undefined))?.isFile()) await fsp.rm(file);
        return c.body(null, 204);
      }
      throw new S3Error(501, "NotImplemented", `${m} ${resource} is not served here`);
    } catch (e) {
      if (e instanceof S3Error) return sendError(c, e, resource);
      throw e;
    }
  });
}
