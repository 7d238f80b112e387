/**
 * SSHTransport: the `Transport` of DPDispatcher's SSHContext over ssh2 (exec + SFTP).
 *
 * Spec: dpdispatcher-compat.md §1.4 (remote_profile keys, authentication order, connection
 * robustness). Deliberate difference from upstream: host keys ARE checked against known_hosts by
 * default (`strict_host_key_checking: false` is the explicit, logged opt-out).
 *
 * Robustness model: one SSH connection, opened lazily on first use and shared by all calls
 * (concurrent callers wait for the same connect). When it drops (socket close/end/error, or an
 * operation fails with a connection-level error) the next operation reconnects with exponential
 * backoff and the failed operation is retried (at most 3 re-runs). Errors that are not about the
 * connection (non-zero exit codes, SFTP "No such file", ...) are returned / thrown as they are.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Duplex } from "node:stream";
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import { Secret, TOTP } from "otpauth";
import pLimit, { type LimitFunction } from "p-limit";
import type {
  AnyAuthMethod,
  AuthenticationType,
  ClientChannel,
  ConnectConfig,
  NextAuthHandler,
  ParsedKey,
  Prompt,
  SFTPWrapper,
  ServerHostKeyAlgorithm,
  Client as SshClient,
  Stats,
} from "ssh2";
import type { ExecResult, FileStat, Transport, TranscriptSink } from "./transport.js";

// ssh2 is loaded on first use: OP bundles include the engine (through dflow-ts) but never open
// SSH, and ssh2's native parts cannot be bundled (ts-op-bundle.ts keeps it external).
type Ssh2 = typeof import("ssh2");
let ssh2Module: Ssh2 | undefined;
const ssh2 = (): Ssh2 => (ssh2Module ??= createRequire(import.meta.url)("ssh2") as Ssh2);

/** ssh2 given by a bundle that carries it (an exported dispatcher pod, engine/executors/dispatch-pod.ts), where no node_modules is. */
export function useSsh2(m: Ssh2): void {
  ssh2Module = m;
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

export interface ReconnectOptions {
  /** Connection attempts after a drop before giving up (default 10). */
  attempts?: number;
  /** Delay before the 2nd attempt; doubled each time (default 1000 ms). */
  initialDelayMs?: number;
  /** Upper bound of the delay (default 30000 ms). */
  maxDelayMs?: number;
}

export interface SSHTransportOptions {
  hostname: string;
  username: string;
  /** Default 22. */
  port?: number;
  password?: string | null;
  /** Private key file on the client; missing file ⇒ error. */
  key_filename?: string | null;
  passphrase?: string | null;
  /** Seconds: TCP connect timeout; the handshake + authentication may take `timeout + 20` s. Default 10. */
  timeout?: number;
  /** When no `key_filename`: try ~/.ssh/id_{rsa,ecdsa,ed25519} and ~/ssh/id_{rsa,ecdsa,ed25519}. Default true. */
  look_for_keys?: boolean;
  /** Base32 TOTP secret (RFC 6238, SHA-1, 30 s, 6 digits) for keyboard-interactive "verification"/"token" prompts. */
  totp_secret?: string | null;
  /** Run fire-and-forget (own channel) after every (re)connection. */
  execute_command?: string | null;
  /** Spawned with `sh -c`; its stdin/stdout are the SSH byte stream. `%h`/`%p` are NOT expanded. */
  proxy_command?: string | null;
  /** known_hosts file (OpenSSH format). Default ~/.ssh/known_hosts (plus /etc/ssh/ssh_known_hosts). */
  known_hosts?: string;
  /** true (default): verify the host key against known_hosts. false: accept any key (logged warning). */
  strict_host_key_checking?: boolean;
  reconnect?: ReconnectOptions;
  /** Diagnostics (warnings, reconnects). */
  log?: (msg: string) => void;
  /** Receives `exec <command>` and `sftp <op> <path>` lines (golden-transcript vocabulary). */
  transcript?: TranscriptSink;
  /** SSH keepalive interval in ms (default 15000; 0 disables). */
  keepaliveIntervalMs?: number;
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238 / RFC 4226)
// ---------------------------------------------------------------------------------------------

function totpSecret(text: string): Secret {
  try {
    return Secret.fromBase32(text.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase());
  } catch (e) {
    throw new Error(`totp_secret is not valid base32: ${errMessage(e)}`);
  }
}

/** RFC 4648 base32 (case-insensitive; spaces, dashes and `=` padding ignored), as totp_secret is read. */
export function base32Decode(text: string): Buffer {
  return Buffer.from(totpSecret(text).bytes);
}

/** Time-based one-time password (RFC 6238, HMAC-SHA-1) of the base32 `secret` at `timeMs`. */
export function totpCode(secret: string, timeMs: number = Date.now(), digits = 6, periodSeconds = 30): string {
  return new TOTP({ secret: totpSecret(secret), algorithm: "SHA1", digits, period: periodSeconds }).generate({ timestamp: timeMs });
}

// ---------------------------------------------------------------------------------------------
// known_hosts
// ---------------------------------------------------------------------------------------------

/** OpenSSH's name for a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>` of a public-key blob, as `ssh-keygen -l` prints it. */
export function sshFingerprint(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** The key type string at the start of an SSH public-key blob (e.g. `ssh-ed25519`). */
export function keyBlobType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString("latin1");
}

export type KnownHostsResult =
  | { status: "match"; line: number }
  | { status: "revoked"; line: number }
  | { status: "mismatch"; line: number; keyType: string }
  | { status: "unknown"; otherTypes: string[] };

interface KnownHostsEntry {
  line: number;
  marker: "" | "@revoked" | "@cert-authority";
  hosts: string;
  keyType: string;
  key: Buffer;
}

function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith("#")) continue;
    const tok = raw.split(/\s+/);
    let marker: KnownHostsEntry["marker"] = "";
    if (tok[0]!.startsWith("@")) {
      const m = tok.shift()!;
      if (m !== "@revoked" && m !== "@cert-authority") continue;
      marker = m;
    }
    if (tok.length < 3) continue;
    const key = Buffer.from(tok[2]!, "base64");
    if (key.length === 0) continue;
    entries.push({ line: i + 1, marker, hosts: tok[0]!, keyType: tok[1]!, key });
  }
  return entries;
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (const ch of pattern) {
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "i");
}

/** Does the host field of a known_hosts line (hashed `|1|salt|hash`, or comma-separated patterns) name `name`? */
export function knownHostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const parts = field.split("|");
    if (parts.length < 4) return false;
    const salt = Buffer.from(parts[2]!, "base64");
    const want = Buffer.from(parts[3]!, "base64");
    const got = createHmac("sha1", salt).update(name).digest();
    return got.length === want.length && got.equals(want);
  }
  let matched = false;
  for (const pat of field.split(",")) {
    if (!pat) continue;
    if (pat.startsWith("!")) {
      if (globToRegExp(pat.slice(1)).test(name)) return false;
    } else if (globToRegExp(pat).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** Check a host key blob against known_hosts text for `host:port` (OpenSSH semantics, without certificates). */
export function checkKnownHosts(text: string, host: string, port: number, keyBlob: Buffer): KnownHostsResult {
  const name = knownHostsName(host, port).toLowerCase();
  const type = keyBlobType(keyBlob);
  let match: KnownHostsResult | undefined;
  let mismatch: KnownHostsResult | undefined;
  const otherTypes = new Set<string>();
  for (const e of parseKnownHosts(text)) {
    if (e.marker === "@cert-authority") continue;
    if (!knownHostsFieldMatches(e.hosts, name)) continue;
    if (e.marker === "@revoked") {
      if (e.key.equals(keyBlob)) return { status: "revoked", line: e.line };
      continue;
    }
    if (e.key.equals(keyBlob)) match ??= { status: "match", line: e.line };
    else if (keyBlobType(e.key) === type) mismatch ??= { status: "mismatch", line: e.line, keyType: type };
    else otherTypes.add(e.keyType);
  }
  return match ?? mismatch ?? { status: "unknown", otherTypes: [...otherTypes] };
}

/** Key types known for `host:port` (used to prefer those host-key algorithms, as OpenSSH does). */
function knownKeyTypes(text: string, host: string, port: number): string[] {
  const name = knownHostsName(host, port).toLowerCase();
  const types: string[] = [];
  for (const e of parseKnownHosts(text)) {
    if (e.marker !== "" || !knownHostsFieldMatches(e.hosts, name)) continue;
    const t = keyBlobType(e.key);
    if (!types.includes(t)) types.push(t);
  }
  return types;
}

const DEFAULT_HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
];

function hostKeyAlgorithmsFor(types: string[]): ServerHostKeyAlgorithm[] | undefined {
  const preferred: ServerHostKeyAlgorithm[] = [];
  for (const t of types) {
    const algos: ServerHostKeyAlgorithm[] =
      t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : DEFAULT_HOST_KEY_ALGOS.filter((a) => a === t);
    for (const a of algos) if (!preferred.includes(a)) preferred.push(a);
  }
  if (preferred.length === 0) return undefined;
  return [...preferred, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !preferred.includes(a))];
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Connection could not be set up; `permanent` errors (host key, authentication) are never retried. */
export class SSHConnectError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SSHConnectError";
  }
}

export class SSHHostKeyError extends SSHConnectError {
  constructor(message: string) {
    super(message, true);
    this.name = "SSHHostKeyError";
  }
}

export class SSHAuthError extends SSHConnectError {
  constructor(
    message: string,
    /** keyboard-interactive with a one-time code failed: worth another try (codes are racy). */
    readonly otpRetryable = false,
  ) {
    super(message, true);
    this.name = "SSHAuthError";
  }
}

/** The SSH connection went away while an operation was running. */
export class SSHConnectionLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SSHConnectionLostError";
  }
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNABORTED",
  "ENOTCONN",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_DESTROYED",
]);
const CONNECTION_ERROR_RE =
  /not connected|no response from server|channel open failure|unable to exec|unable to start subsystem|keepalive timeout|connection lost|socket hang up|econnreset|epipe|write after end|closed unexpectedly|connection (?:was )?closed/i;

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isConnectionError(e: unknown): boolean {
  if (e instanceof SSHConnectionLostError) return true;
  if (e instanceof SSHConnectError) return false;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) return true;
  // SFTP status codes 6 (NO_CONNECTION) and 7 (CONNECTION_LOST)
  if (typeof code === "number" && (code === 6 || code === 7)) return true;
  if (typeof code === "number") return false; // any other SFTP status: a real answer from the server
  return CONNECTION_ERROR_RE.test(errMessage(e));
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function cbPromise<T = void>(f: (cb: (err: Error | undefined | null, res?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      f((err, res) => (err ? reject(err) : resolve(res as T)));
    } catch (e) {
      reject(e);
    }
  });
}

/** A child process's stdout/stdin as one duplex byte stream (the `sock` for ssh2). */
class ProcessSocket extends Duplex {
  stderrTail = "";
  /** Settles when the command's stderr is closed (all of it has been read). */
  readonly stderrDone: Promise<void>;
  constructor(private readonly child: ChildProcess) {
    super({ allowHalfOpen: false });
    this.stderrDone = new Promise<void>((r) => {
      child.stderr!.on("close", r);
      child.on("error", () => r());
    });
    child.stdout!.on("data", (d: Buffer) => {
      if (!this.push(d)) child.stdout!.pause();
    });
    child.stdout!.on("end", () => this.push(null));
    child.stderr!.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString("utf8")).slice(-2000);
    });
    child.stdin!.on("error", (e) => this.destroy(e));
    child.on("error", (e) => this.destroy(e));
  }
  override _read(): void {
    this.child.stdout!.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.child.stdin!.destroyed) return cb(new Error("proxy_command stdin is closed"));
    this.child.stdin!.write(chunk, (err) => cb(err ?? null));
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin!.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    cb(err);
  }
}

interface Conn {
  id: number;
  client: SshClient;
  dead: boolean;
  deadReason?: unknown;
  sftp: Promise<SFTPWrapper> | null;
  sock?: Duplex;
}

interface LoadedKey {
  path: string;
  key: ParsedKey;
}

/** Matches §1.4's defaults for `look_for_keys`. */
function defaultKeyPaths(): string[] {
  const home = os.homedir();
  const names = ["id_rsa", "id_ecdsa", "id_ed25519"];
  return [...names.map((n) => path.join(home, ".ssh", n)), ...names.map((n) => path.join(home, "ssh", n))];
}

// ---------------------------------------------------------------------------------------------
// SSHTransport
// ---------------------------------------------------------------------------------------------

export class SSHTransport implements Transport {
  readonly describe: string;
  private readonly host: string;
  private readonly port: number;
  private readonly user: string;
  private readonly timeoutS: number;
  private readonly strict: boolean;
  private readonly knownHostsFile: string;
  private readonly knownHostsFiles: string[];
  private readonly reconnectAttempts: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly log: (msg: string) => void;
  private readonly transcript?: TranscriptSink;
  /** Exec channels per connection: OpenSSH's default MaxSessions is 10. */
  private readonly channels: LimitFunction = pLimit(8);

  private conn: Conn | null = null;
  private connecting: Promise<Conn> | null = null;
  private connectionCount = 0;
  private attemptId = 0;
  private closed = false;
  private keys: LoadedKey[] | undefined;
  private homeDir: string | undefined;
  /** Aborted by close(): cuts reconnect back-off sleeps short. */
  private readonly closing = new AbortController();

  constructor(private readonly opts: SSHTransportOptions) {
    if (!opts.hostname) throw new Error("SSHTransport: remote_profile.hostname is required");
    if (!opts.username) throw new Error("SSHTransport: remote_profile.username is required");
    this.host = opts.hostname;
    this.user = opts.username;
    this.port = opts.port ?? 22;
    this.timeoutS = opts.timeout ?? 10;
    this.describe = `${this.user}@${this.host}:${this.port}`;
    this.strict = opts.strict_host_key_checking ?? true;
    const userKnownHosts = path.join(os.homedir(), ".ssh", "known_hosts");
    this.knownHostsFile = opts.known_hosts ?? userKnownHosts;
    this.knownHostsFiles = opts.known_hosts ? [opts.known_hosts] : [userKnownHosts, "/etc/ssh/ssh_known_hosts"];
    this.reconnectAttempts = Math.max(1, opts.reconnect?.attempts ?? 10);
    this.initialDelayMs = opts.reconnect?.initialDelayMs ?? 1000;
    this.maxDelayMs = opts.reconnect?.maxDelayMs ?? 30000;
    this.log = opts.log ?? (() => {});
    this.transcript = opts.transcript;
  }

  /** Number of successful (re)connections so far (1 after the first connect). */
  get connections(): number {
    return this.connectionCount;
  }

  // ---- connection management --------------------------------------------------------------

  private loadKeys(): LoadedKey[] {
    if (this.keys) return this.keys;
    const passphrase = this.opts.passphrase ?? undefined;
    const keys: LoadedKey[] = [];
    if (this.opts.key_filename) {
      const p = this.opts.key_filename;
      let data: Buffer;
      try {
        data = readFileSync(p);
      } catch (e) {
        throw new SSHConnectError(
          `SSH to ${this.describe}: cannot read key_filename ${p} (${(e as NodeJS.ErrnoException).code ?? errMessage(e)}); ` +
            `fix the path in remote_profile.key_filename, or remove it to use look_for_keys/password`,
          true,
        );
      }
      keys.push({ path: p, key: this.parseKeyOrThrow(p, data, passphrase) });
    } else if (this.opts.look_for_keys ?? true) {
      for (const p of defaultKeyPaths()) {
        if (!existsSync(p)) continue;
        try {
          keys.push({ path: p, key: this.parseKeyOrThrow(p, readFileSync(p), passphrase) });
        } catch (e) {
          this.log(`look_for_keys: skipping ${p}: ${errMessage(e)}`);
        }
      }
    }
    this.keys = keys;
    return keys;
  }

  private parseKeyOrThrow(p: string, data: Buffer, passphrase: string | undefined): ParsedKey {
    const parsed = ssh2().utils.parseKey(data, passphrase);
    if (parsed instanceof Error) {
      const m = parsed.message;
      const hint = /encrypt|passphrase|decrypt/i.test(m)
        ? passphrase === undefined
          ? "the key is encrypted: provide remote_profile.passphrase"
          : "wrong passphrase (remote_profile.passphrase)"
        : "not a supported private key (RSA, ECDSA or Ed25519, OpenSSH or PEM format)";
      throw new SSHConnectError(`SSH to ${this.describe}: cannot load private key ${p}: ${m}; ${hint}`, true);
    }
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
    if (!key.isPrivateKey()) {
      throw new SSHConnectError(
        `SSH to ${this.describe}: ${p} is not a private key (a .pub file?); point key_filename at the private key`,
        true,
      );
    }
    return key;
  }

  private readKnownHosts(): string {
    let text = "";
    for (const f of this.knownHostsFiles) {
      try {
        text += readFileSync(f, "utf8") + "\n";
      } catch {
        /* missing file = no entries */
      }
    }
    return text;
  }

  private hostKeyDecision(key: Buffer): { ok: true } | { ok: false; error: SSHHostKeyError } {
    const fp = sshFingerprint(key);
    const type = keyBlobType(key);
    const name = knownHostsName(this.host, this.port);
    if (!this.strict) {
      this.log(
        `WARNING: strict_host_key_checking is false: accepting the ${type} host key ${fp} of ${name} without checking known_hosts`,
      );
      return { ok: true };
    }
    const res = checkKnownHosts(this.readKnownHosts(), this.host, this.port, key);
    const file = this.knownHostsFile;
    switch (res.status) {
      case "match":
        return { ok: true };
      case "revoked":
        return {
          ok: false,
          error: new SSHHostKeyError(
            `Host key verification failed for ${this.describe}: the ${type} host key ${fp} is marked @revoked in known_hosts. Refusing to connect.`,
          ),
        };
      case "mismatch":
        return {
          ok: false,
          error: new SSHHostKeyError(
            `Host key verification failed for ${this.describe}: REMOTE HOST IDENTIFICATION HAS CHANGED. ` +
              `The server offered the ${type} key ${fp}, but known_hosts (${file}, line ${res.line}) holds a different ${type} key for ${name}. ` +
              `Someone could be eavesdropping on you (man-in-the-middle attack), or the host key was just changed. ` +
              `If you are sure the new key is legitimate, remove the old entry (ssh-keygen -R '${name}' -f ${file}) and add the new one ` +
              `(ssh-keygen -R, then ssh-keyscan -p ${this.port} ${this.host} >> ${file}). Not accepting it automatically.`,
          ),
        };
      case "unknown": {
        const exists = this.knownHostsFiles.some((f) => existsSync(f));
        const other = res.otherTypes.length
          ? ` (known_hosts has only ${res.otherTypes.join(", ")} key(s) for this host, not ${type})`
          : "";
        return {
          ok: false,
          error: new SSHHostKeyError(
            `Host key verification failed for ${this.describe}: host ${name} is not in known_hosts file ${file}` +
              `${exists ? "" : " (the file does not exist)"}${other}. The server's ${type} key fingerprint is ${fp}. ` +
              `If that fingerprint is right, add the host with: ssh-keyscan -p ${this.port} ${this.host} >> ${file} ` +
              `(or connect once with ssh -p ${this.port} ${this.user}@${this.host}), or point the executor's known_hosts option (dflow dpdisp: --known-hosts) at a file that has it; ` +
              `to skip verification (insecure) set strict_host_key_checking: false (dflow dpdisp: --no-strict-host-key-checking).`,
          ),
        };
      }
    }
  }

  /** One connection attempt (TCP or proxy_command, handshake, host key, authentication). */
  private connectOnce(): Promise<Conn> {
    const keys = this.loadKeys();
    const password = this.opts.password ?? undefined;
    const totp = this.opts.totp_secret ?? undefined;
    if (keys.length === 0 && password === undefined && totp === undefined) {
      const looked = this.opts.key_filename
        ? ""
        : (this.opts.look_for_keys ?? true)
          ? ` (look_for_keys found no usable key in ${defaultKeyPaths().join(", ")})`
          : " (look_for_keys is false)";
      return Promise.reject(
        new SSHAuthError(
          `SSH to ${this.describe}: no authentication method available${looked}; provide key_filename or password ` +
            `(or totp_secret for keyboard-interactive) in remote_profile`,
        ),
      );
    }
    const id = ++this.attemptId;
    return new Promise<Conn>((resolve, reject) => {
      const client = new (ssh2().Client)();
      let settled = false;
      let hostKeyError: SSHHostKeyError | undefined;
      let proxyChild: ChildProcess | undefined;
      let sock: Duplex;

      // --- authentication state (order of §1.4) ---
      const tried: string[] = [];
      let serverMethods: AuthenticationType[] | null = null;
      let keyIdx = 0;
      let kbdTried = false;
      let pwTried = false;
      let partialSeen = false;
      const kbdPrompt = (
        _name: string,
        _instr: string,
        _lang: string,
        prompts: Prompt[],
        finish: (answers: string[]) => void,
      ) => {
        finish(
          prompts.map((p) => {
            const q = p.prompt.toLowerCase();
            if (q.includes("password")) return password ?? "";
            if ((q.includes("verification") || q.includes("token")) && totp) return totpCode(totp);
            return "";
          }),
        );
      };
      const authHandler = (methodsLeft: AuthenticationType[] | null, partial: boolean | null, next: NextAuthHandler) => {
        if (methodsLeft) serverMethods = methodsLeft;
        if (partial) partialSeen = true;
        const allowed = (m: AuthenticationType) => !methodsLeft || methodsLeft.includes(m);
        // (1) public key(s)
        while (keyIdx < keys.length && allowed("publickey")) {
          const k = keys[keyIdx++]!;
          tried.push(`publickey (${k.path})`);
          return next({ type: "publickey", username: this.user, key: k.key } as AnyAuthMethod);
        }
        // (2) keyboard-interactive: forced by totp_secret, or offered by the server and we can answer
        if (
          !kbdTried &&
          allowed("keyboard-interactive") &&
          (totp !== undefined || (password !== undefined && methodsLeft?.includes("keyboard-interactive")))
        ) {
          kbdTried = true;
          tried.push(totp !== undefined ? "keyboard-interactive (password/TOTP)" : "keyboard-interactive (password)");
          return next({ type: "keyboard-interactive", username: this.user, prompt: kbdPrompt } as AnyAuthMethod);
        }
        // (4) password
        if (!pwTried && password !== undefined && allowed("password")) {
          pwTried = true;
          tried.push("password");
          return next({ type: "password", username: this.user, password } as AnyAuthMethod);
        }
        // (5) give up
        (next as unknown as (v: false) => void)(false);
      };

      const authError = (): SSHAuthError => {
        const offers = serverMethods?.length ? serverMethods.join(", ") : "unknown";
        let hint: string;
        const keyTried = tried.some((t) => t.startsWith("publickey"));
        if (partialSeen) {
          hint = `the server accepted a first factor but wants more (${offers}); provide totp_secret and/or password`;
        } else if (pwTried && serverMethods && !serverMethods.includes("password")) {
          hint =
            `this server does not accept password authentication (it accepts: ${offers}); provide key_filename ` +
            `(a private key whose public key is in ~${this.user}/.ssh/authorized_keys on ${this.host})`;
        } else if (kbdTried && totp !== undefined) {
          hint = "check password and totp_secret (and that the client clock is right)";
        } else if (pwTried) {
          hint = "the password was rejected: check remote_profile.password, or provide key_filename";
        } else if (keyTried) {
          hint =
            `the key was rejected: add its public key to ~${this.user}/.ssh/authorized_keys on ${this.host}, ` +
            `or provide key_filename of an accepted key, or password`;
        } else {
          hint = `none of the configured methods is accepted by the server (it accepts: ${offers}); provide key_filename or password`;
        }
        return new SSHAuthError(
          `SSH authentication failed for ${this.describe}: tried ${tried.join(", ") || "nothing"}; server accepts: ${offers}; ${hint}`,
          kbdTried && totp !== undefined,
        );
      };

      const conn: Conn = { id, client, dead: false, sftp: null };

      /** `make` is called once the proxy command's stderr is complete (it goes into the message). */
      const fail = (make: () => Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        try {
          client.end();
        } catch {
          /* ignore */
        }
        if (sock instanceof ProcessSocket) {
          // Stop the proxy first, then read what it said to the end: its last words name the
          // cause. The bound only matters when a grandchild keeps its stderr open after it died.
          const s = sock;
          s.destroy();
          const cap = new AbortController();
          void Promise.race([s.stderrDone, sleep(10_000, undefined, { signal: cap.signal }).catch(() => undefined)]).then(() => {
            cap.abort();
            reject(make());
          });
        } else {
          sock?.destroy();
          reject(make());
        }
      };
      const proxyStderr = (): string =>
        sock instanceof ProcessSocket && sock.stderrTail.trim()
          ? sock.stderrTail.trim().split("\n").slice(-3).join(" | ")
          : "";

      const translate = (err: Error & { level?: string; code?: unknown }): Error => {
        if (hostKeyError) return hostKeyError;
        if (err.level === "client-authentication") return authError();
        const proxyNote = proxyStderr() ? `; proxy_command stderr: ${proxyStderr()}` : "";
        const code = typeof err.code === "string" ? err.code : "";
        let hint = "";
        if (code === "ECONNREFUSED") hint = ` — is sshd running and listening on port ${this.port}?`;
        else if (code === "ENOTFOUND" || code === "EAI_AGAIN") hint = ` — check remote_profile.hostname`;
        else if (err.level === "client-timeout")
          hint = ` (handshake/authentication took longer than ${this.timeoutS + 20} s; remote_profile.timeout is ${this.timeoutS})`;
        return new SSHConnectError(`SSH: cannot connect to ${this.describe}: ${err.message}${hint}${proxyNote}`, false, {
          cause: err,
        });
      };

      client.on("error", (err: Error) => {
        if (!settled) fail(() => translate(err));
        else this.markDead(conn, err);
      });
      const onGone = (what: string) => () => {
        if (!settled) {
          fail(() => {
            const note = proxyStderr() ? ` (proxy_command stderr: ${proxyStderr()})` : "";
            return new SSHConnectError(`SSH: connection to ${this.describe} ${what} during the handshake${note}`, false);
          });
        } else this.markDead(conn, new SSHConnectionLostError(`connection to ${this.describe} ${what}`));
      };
      client.on("end", onGone("ended"));
      client.on("close", onGone("closed"));
      client.on("ready", () => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        this.connectionCount++;
        resolve(conn);
      });

      // --- transport socket ---
      let connectTimer: NodeJS.Timeout | undefined;
      const proxy = this.opts.proxy_command;
      if (proxy) {
        proxyChild = spawn("sh", ["-c", proxy], { stdio: ["pipe", "pipe", "pipe"] });
        sock = new ProcessSocket(proxyChild);
        proxyChild.on("exit", (code, signal) => {
          if (!settled)
            this.log(`proxy_command exited (${signal ?? code}) before the SSH connection to ${this.describe} was ready`);
        });
      } else {
        const s = net.connect({ host: this.host, port: this.port });
        s.setNoDelay(true);
        connectTimer = setTimeout(() => {
          if (s.connecting) {
            const e = Object.assign(
              new Error(`TCP connect timed out after ${this.timeoutS} s (remote_profile.timeout)`),
              { code: "ETIMEDOUT" },
            );
            s.destroy(e);
          }
        }, this.timeoutS * 1000);
        sock = s;
      }
      conn.sock = sock;

      // --- host key checking ---
      let hostKeyAlgos: ServerHostKeyAlgorithm[] | undefined;
      if (this.strict) hostKeyAlgos = hostKeyAlgorithmsFor(knownKeyTypes(this.readKnownHosts(), this.host, this.port));

      const cfg: ConnectConfig = {
        host: this.host,
        port: this.port,
        username: this.user,
        sock,
        readyTimeout: (this.timeoutS + 20) * 1000,
        keepaliveInterval: this.opts.keepaliveIntervalMs ?? 15000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const d = this.hostKeyDecision(key);
          if (d.ok) return true;
          hostKeyError = d.error;
          return false;
        },
        authHandler: authHandler as unknown as ConnectConfig["authHandler"],
        ...(hostKeyAlgos ? { algorithms: { serverHostKey: hostKeyAlgos } } : {}),
      };
      try {
        client.connect(cfg);
      } catch (e) {
        fail(() => translate(e as Error));
      }
    });
  }

  private markDead(conn: Conn, reason: unknown): void {
    if (conn.dead) return;
    conn.dead = true;
    conn.deadReason = reason;
    conn.sftp = null;
    if (this.conn === conn) this.conn = null;
    if (!this.closed) this.log(`SSH connection #${conn.id} to ${this.describe} lost: ${errMessage(reason)}`);
    try {
      conn.client.end();
    } catch {
      /* ignore */
    }
    conn.sock?.destroy();
  }

  /**
   * Sleep that close() interrupts; throws when the transport was closed meanwhile. A close() that
   * came during the connection attempt before this pause ends it at once too (the signal is
   * already aborted then).
   */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.closing.signal }).catch(() => undefined);
    if (this.closed) throw this.closedError();
  }

  private async firstConnect(): Promise<Conn> {
    // §1.4: setup is retried (6 times, 1 s apart) when keyboard-interactive with a one-time code fails.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connectOnce();
      } catch (e) {
        if (e instanceof SSHAuthError && e.otpRetryable && attempt < 6 && !this.closed) {
          this.log(`${e.message}; retrying in 1 s (${attempt}/6)`);
          await this.pause(1000);
          continue;
        }
        // A login node that refuses or drops the very first connection for a moment (sshd
        // restarting, a network blip) gets two more tries; host-key and auth errors never do.
        const transient = e instanceof SSHConnectError ? !e.permanent : !(e instanceof SSHAuthError || e instanceof SSHHostKeyError);
        if (transient && attempt < 3 && !this.closed) {
          this.log(`connecting to ${this.describe} failed: ${errMessage(e)}; retrying in ${attempt} s (${attempt}/3)`);
          await this.pause(1000 * attempt);
          continue;
        }
        throw e;
      }
    }
  }

  private async reconnectLoop(): Promise<Conn> {
    let delay = this.initialDelayMs;
    let last: unknown;
    for (let attempt = 1; attempt <= this.reconnectAttempts; attempt++) {
      if (this.closed) throw this.closedError();
      try {
        const c = await this.connectOnce();
        this.log(`reconnected to ${this.describe} (attempt ${attempt}, connection #${this.connectionCount})`);
        return c;
      } catch (e) {
        last = e;
        if (e instanceof SSHConnectError && e.permanent) throw e;
        if (attempt < this.reconnectAttempts) {
          this.log(
            `reconnect to ${this.describe} failed (attempt ${attempt}/${this.reconnectAttempts}): ${errMessage(e)}; retrying in ${delay} ms`,
          );
          await this.pause(delay);
          delay = Math.min(delay * 2, this.maxDelayMs);
        }
      }
    }
    throw new SSHConnectError(
      `SSH connection to ${this.describe} was lost and ${this.reconnectAttempts} reconnect attempts failed; last error: ${errMessage(last)}`,
      false,
      { cause: last },
    );
  }

  private closedError(): Error {
    return new Error(`SSHTransport ${this.describe} is closed`);
  }

  private getConn(): Promise<Conn> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.conn && !this.conn.dead) return Promise.resolve(this.conn);
    if (!this.connecting) {
      const p = (this.connectionCount > 0 ? this.reconnectLoop() : this.firstConnect()).then((conn) => {
        if (this.closed) {
          this.markDead(conn, this.closedError());
          throw this.closedError();
        }
        this.conn = conn;
        this.afterConnect(conn);
        return conn;
      });
      this.connecting = p;
      const clear = () => {
        if (this.connecting === p) this.connecting = null;
      };
      p.then(clear, clear);
    }
    return this.connecting;
  }

  private afterConnect(conn: Conn): void {
    const cmd = this.opts.execute_command;
    if (!cmd) return;
    this.transcript?.(`exec ${cmd}`);
    // Holds a channel until the command ends, like any exec.
    void this.channels(
      () =>
        new Promise<void>((release) => {
          try {
            conn.client.exec(cmd, (err, stream) => {
              if (err) {
                release();
                this.log(`execute_command on ${this.describe} failed to start: ${err.message}`);
                return;
              }
              stream.on("close", () => release());
              stream.resume();
              stream.stderr.resume();
            });
          } catch (e) {
            release();
            this.log(`execute_command on ${this.describe} failed to start: ${errMessage(e)}`);
          }
        }),
    );
  }

  /**
   * Run `op` on the shared connection; on a connection-level failure reconnect (with backoff)
   * and run it again, at most `retries` more times.
   */
  private async withConn<T>(what: string, op: (conn: Conn, attempt: number) => Promise<T>, retries = 3): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.getConn();
      try {
        return await op(conn, attempt);
      } catch (e) {
        if (this.closed) throw e;
        if (!conn.dead && !isConnectionError(e)) throw e;
        this.markDead(conn, e);
        if (attempt >= retries) {
          throw new SSHConnectionLostError(
            `${what} on ${this.describe}: connection lost ${attempt + 1} times, giving up: ${errMessage(e)}`,
            { cause: e },
          );
        }
        this.log(`${what} on ${this.describe}: connection lost (${errMessage(e)}); reconnecting and retrying (${attempt + 1}/${retries})`);
      }
    }
  }

  private getSftp(conn: Conn): Promise<SFTPWrapper> {
    if (!conn.sftp) {
      const p = cbPromise<SFTPWrapper>((cb) => conn.client.sftp(cb)).then((s) => {
        const drop = () => {
          if (conn.sftp === p) conn.sftp = null;
        };
        s.on("close", drop);
        s.on("end", drop);
        s.on("error", drop);
        return s;
      });
      conn.sftp = p;
      p.catch(() => {
        if (conn.sftp === p) conn.sftp = null;
      });
    }
    return conn.sftp;
  }

  private sftpOp<T>(what: string, op: (sftp: SFTPWrapper, attempt: number) => Promise<T>): Promise<T> {
    return this.withConn(what, async (conn, attempt) => op(await this.getSftp(conn), attempt));
  }

  private wrapSftpError(op: string, p: string, e: unknown): Error {
    if (isConnectionError(e)) return e as Error;
    const err = new Error(`sftp ${op} ${p} on ${this.describe}: ${errMessage(e)}`, { cause: e });
    const code = (e as { code?: unknown }).code;
    if (code !== undefined) (err as Error & { code?: unknown }).code = code;
    return err;
  }

  // ---- Transport ----------------------------------------------------------------------------

  async home(): Promise<string> {
    if (this.homeDir !== undefined) return this.homeDir;
    const h = await this.sftpOp("realpath .", (s) => cbPromise<string>((cb) => s.realpath(".", cb)));
    this.homeDir = h;
    return h;
  }

  exec(command: string): Promise<ExecResult> {
    this.transcript?.(`exec ${command}`);
    return this.withConn(`exec ${JSON.stringify(command.length > 80 ? command.slice(0, 77) + "..." : command)}`, (conn) =>
      this.execOnce(conn, command),
    );
  }

  private execOnce(conn: Conn, command: string): Promise<ExecResult> {
    return this.channels(() => {
      if (conn.dead) throw new SSHConnectionLostError(`connection to ${this.describe} is gone`, { cause: conn.deadReason });
      return new Promise<ExecResult>((resolve, reject) => {
        const onStream = (err: Error | undefined, stream: ClientChannel) => {
          if (err) return reject(err);
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code: number | null | undefined;
          stream.on("data", (d: Buffer) => out.push(d));
          stream.stderr.on("data", (d: Buffer) => errOut.push(d));
          stream.on("exit", (c: number | null) => {
            code = typeof c === "number" ? c : null;
          });
          stream.on("error", (e: Error) => reject(e));
          stream.on("close", () => {
            const finish = (connectionAlive: boolean) => {
              if (code === undefined && !connectionAlive) {
                reject(
                  new SSHConnectionLostError(`connection to ${this.describe} lost while the command was running`, {
                    cause: conn.deadReason,
                  }),
                );
              } else {
                resolve({
                  code: code ?? null,
                  stdout: Buffer.concat(out).toString("utf8"),
                  stderr: Buffer.concat(errOut).toString("utf8"),
                });
              }
            };
            // No exit status: an odd server, or the connection is going away (then the command
            // must run again). Ask the server something: an answer means the connection lives.
            if (code === undefined && !conn.dead) void this.answers(conn).then(finish);
            else finish(!conn.dead);
          });
        };
        try {
          conn.client.exec(command, onStream);
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /**
   * Whether the server still answers on this connection: a global request that needs a reply
   * (cancelling a port forward we never asked for; the server says no). ssh2 fails pending
   * requests with "No response from server" when the connection closes, and keepalive closes a
   * silent one, so this always settles without a clock of its own.
   */
  private answers(conn: Conn): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      try {
        conn.client.unforwardIn("127.0.0.1", 0, (err) => resolve(!conn.dead && !(err && /no response from server/i.test(err.message))));
      } catch {
        resolve(false); // "Not connected"
      }
    });
  }

  async mkdir(p: string): Promise<void> {
    this.transcript?.(`sftp mkdir ${p}`);
    await this.sftpOp("sftp mkdir", async (s) => {
      try {
        await cbPromise((cb) => s.mkdir(p, cb));
      } catch (e) {
        if (isConnectionError(e)) throw e;
        /* exists etc.: ignored, as upstream does */
      }
    });
  }

  async stat(p: string): Promise<FileStat | null> {
    this.transcript?.(`sftp stat ${p}`);
    return this.sftpOp("sftp stat", async (s) => {
      try {
        const st = await cbPromise<Stats>((cb) => s.stat(p, cb));
        return { isFile: st.isFile(), isDirectory: st.isDirectory(), size: st.size };
      } catch (e) {
        if ((e as { code?: unknown }).code === 2) return null;
        throw this.wrapSftpError("stat", p, e);
      }
    });
  }

  async readFile(p: string): Promise<Buffer> {
    this.transcript?.(`sftp open ${p} r`);
    return this.sftpOp("sftp read", async (s) => {
      try {
        return await cbPromise<Buffer>((cb) => s.readFile(p, cb));
      } catch (e) {
        throw this.wrapSftpError("open (read)", p, e);
      }
    });
  }

  async writeFile(p: string, data: string | Buffer): Promise<void> {
    this.transcript?.(`sftp open ${p} w`);
    await this.sftpOp("sftp write", async (s) => {
      try {
        await cbPromise((cb) => s.writeFile(p, data, cb));
      } catch (e) {
        throw this.wrapSftpError("open (write)", p, e);
      }
    });
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    this.transcript?.(`sftp put ${remotePath}`);
    await this.sftpOp("sftp put", async (s) => {
      try {
        await cbPromise((cb) => s.fastPut(localPath, remotePath, cb));
      } catch (e) {
        throw this.wrapSftpError("put", `${localPath} -> ${remotePath}`, e);
      }
    });
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    this.transcript?.(`sftp get ${remotePath}`);
    await this.sftpOp("sftp get", async (s) => {
      try {
        await cbPromise((cb) => s.fastGet(remotePath, localPath, cb));
      } catch (e) {
        throw this.wrapSftpError("get", `${remotePath} -> ${localPath}`, e);
      }
    });
  }

  async remove(p: string): Promise<void> {
    this.transcript?.(`sftp remove ${p}`);
    await this.sftpOp("sftp remove", async (s, attempt) => {
      try {
        await cbPromise((cb) => s.unlink(p, cb));
      } catch (e) {
        // A retry after a lost connection may find the file already removed by the first try.
        if (attempt > 0 && (e as { code?: unknown }).code === 2) return;
        throw this.wrapSftpError("remove", p, e);
      }
    });
  }

  private async readdirOnce(s: SFTPWrapper, p: string) {
    try {
      const list = await cbPromise<Array<{ filename: string; attrs: Stats }>>((cb) => s.readdir(p, cb));
      return list
        .filter((e) => e.filename !== "." && e.filename !== "..")
        .sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
    } catch (e) {
      throw this.wrapSftpError("listdir", p, e);
    }
  }

  async listdir(p: string): Promise<string[]> {
    this.transcript?.(`sftp listdir ${p}`);
    return this.sftpOp("sftp listdir", async (s) => (await this.readdirOnce(s, p)).map((e) => e.filename));
  }

  async walkFiles(dir: string): Promise<string[]> {
    const files: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const abs = rel ? path.posix.join(dir, rel) : dir;
      this.transcript?.(`sftp listdir ${abs}`);
      const entries = await this.sftpOp("sftp listdir", (s) => this.readdirOnce(s, abs));
      for (const e of entries) {
        const r = rel ? `${rel}/${e.filename}` : e.filename;
        if (e.attrs.isDirectory()) await walk(r);
        else if (e.attrs.isFile()) files.push(r);
      }
    };
    await walk("");
    return files;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    const pending = this.connecting;
    if (pending) await pending.catch(() => undefined);
    const c = this.conn;
    this.conn = null;
    if (c && !c.dead) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        c.client.once("close", () => {
          clearTimeout(t);
          resolve();
        });
        this.markDead(c, this.closedError());
      });
    }
  }
}
