/**
 * SSHTransport (ssh2) against the REAL local OpenSSH server of test/hpc/start-local-hpc.sh, plus
 * the pure parts (TOTP, known_hosts) and LoopbackTransport.
 *
 * The server facts come from $DFLOW_TEST_HPC (path of hpc.json). Without it the SSH tests are
 * skipped (reason printed once), except in CI (CI set) where they FAIL; with DFLOW_TEST_HPC set, a
 * missing file or a silent server makes them FAIL.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HPC_MISSING_IN_CI, HPC_SKIP_REASON, IN_CI, type HpcInfo } from "../support/hpc.js";
import { LoopbackTransport } from "../../engine/dispatcher/context/loopback.js";
import {
  SSHAuthError,
  SSHConnectError,
  SSHHostKeyError,
  SSHTransport,
  base32Decode,
  checkKnownHosts,
  knownHostsFieldMatches,
  knownHostsName,
  sshFingerprint,
  totpCode,
  type SSHTransportOptions,
} from "../../engine/dispatcher/context/ssh.js";

// ---------------------------------------------------------------------------------------------
// HPC discovery
// ---------------------------------------------------------------------------------------------

type Hpc = HpcInfo;

const ENV_HPC = process.env.DFLOW_TEST_HPC;
const REQUIRED = !!ENV_HPC || IN_CI; // CI must run these: there a missing cluster fails them

/** Resolves to undefined when an SSH banner arrives, else to a reason. */
function probeSsh(host: string, port: number, ms = 60_000): Promise<string | undefined> {
  return new Promise((done) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => finish(`no SSH banner within ${ms} ms`), ms);
    let buf = "";
    function finish(r: string | undefined) {
      clearTimeout(t);
      s.destroy();
      done(r);
    }
    s.on("data", (d) => {
      buf += d.toString("latin1");
      if (buf.includes("\n")) finish(buf.startsWith("SSH-") ? undefined : `unexpected banner ${JSON.stringify(buf.slice(0, 40))}`);
    });
    s.on("error", (e) => finish(e.message));
    s.on("close", () => finish("connection closed before the banner"));
  });
}

let HPC: Hpc | undefined;
let PROBLEM: string | undefined;
{
  // The same rule as every HPC test (test/support/hpc.ts): DFLOW_TEST_HPC names the cluster.
  const file = ENV_HPC;
  if (!file) PROBLEM = IN_CI ? HPC_MISSING_IN_CI : HPC_SKIP_REASON;
  else if (!existsSync(file)) PROBLEM = `DFLOW_TEST_HPC=${file}: file not found`;
  else {
    try {
      HPC = JSON.parse(readFileSync(file, "utf8")) as Hpc;
      const why = await probeSsh(HPC.host, HPC.port); // generous: a busy machine's sshd answers slowly
      if (why) PROBLEM = `SSH server ${HPC.host}:${HPC.port} (from ${file}) does not answer: ${why}`;
    } catch (e) {
      PROBLEM = `cannot read ${file}: ${(e as Error).message}`;
    }
  }
  if (PROBLEM && !REQUIRED) console.log(`[ssh-transport.test] skipping SSH tests: ${PROBLEM}`);
}
/** Runs when the HPC is there; when DFLOW_TEST_HPC demands it but it is not, runs and fails. */
const itHpc = PROBLEM && !REQUIRED ? it.skip : it;
function need(): Hpc {
  if (PROBLEM) throw new Error(PROBLEM);
  return HPC!;
}

// Controlling the local sshd (kill / restart) needs root and the state dir.
let SSHD_PROBLEM: string | undefined;
if (!PROBLEM && HPC) {
  const pidFile = HPC.stateDir ? join(HPC.stateDir, "run", "sshd.pid") : undefined;
  if (process.getuid?.() !== 0) SSHD_PROBLEM = "restarting sshd needs root";
  else if (!pidFile || !existsSync(pidFile)) SSHD_PROBLEM = `no sshd PID file (${pidFile ?? "hpc.json has no stateDir"})`;
  else if (!existsSync("/usr/sbin/sshd")) SSHD_PROBLEM = "/usr/sbin/sshd not found";
  if (SSHD_PROBLEM && !REQUIRED) console.log(`[ssh-transport.test] skipping sshd kill/restart tests: ${SSHD_PROBLEM}`);
}
const itSshd = PROBLEM || SSHD_PROBLEM ? (REQUIRED ? it : it.skip) : it;
function needSshd(): Hpc {
  const h = need();
  if (SSHD_PROBLEM) throw new Error(SSHD_PROBLEM);
  return h;
}

// ---------------------------------------------------------------------------------------------
// sshd control (exactly as start-local-hpc.sh starts it)
// ---------------------------------------------------------------------------------------------

const sshdPidFile = (h: Hpc) => join(h.stateDir!, "run", "sshd.pid");

function procState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[0];
  } catch {
    return undefined;
  }
}
const running = (pid: number) => {
  const st = procState(pid);
  return st !== undefined && st !== "Z";
};
/**
 * SIGKILL a process that may already be gone: other HPC test files restart the local
 * cluster's sshd in parallel with this one, which ends every session; the drop happened either way.
 */
function killGone(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

function ppidOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return Number(fields[1]);
}
function sshdPid(h: Hpc): number | undefined {
  try {
    const pid = Number(readFileSync(sshdPidFile(h), "utf8").replace(/\D/g, ""));
    if (pid > 0 && running(pid) && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sshd") return pid;
  } catch {
    /* no file */
  }
  return undefined;
}
/** Wait for a condition (an event we cannot subscribe to); the limit is only a backstop. */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const fileIs = (p: string, text: string) => existsSync(p) && readFileSync(p, "utf8") === text;
/** stop_pid of the start script: TERM, wait, KILL. */
async function stopSshd(h: Hpc): Promise<void> {
  const pid = sshdPid(h);
  if (!pid) return;
  process.kill(pid, "SIGTERM");
  try {
    await waitFor("sshd to stop", () => !running(pid), 30_000);
  } catch {
    process.kill(pid, "SIGKILL");
  }
}
/** Section 7 of start-local-hpc.sh. */
async function startSshd(h: Hpc): Promise<void> {
  const sshdDir = join(h.stateDir!, "ssh");
  const logDir = h.logDir ?? join(h.stateDir!, "log");
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  execFileSync("/usr/sbin/sshd", ["-t", "-f", join(sshdDir, "sshd_config")], { stdio: "ignore" });
  execFileSync("/usr/sbin/sshd", ["-f", join(sshdDir, "sshd_config"), "-E", join(logDir, "sshd.log")], { stdio: "ignore" });
  await waitFor("sshd PID file", () => sshdPid(h) !== undefined);
  await waitFor("sshd banner", async () => (await probeSsh(h.host, h.port)) === undefined);
}
async function ensureSshd(h: Hpc): Promise<void> {
  if (sshdPid(h) !== undefined) return;
  await startSshd(h);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const LOCAL_TMP = mkdtempSync(join(tmpdir(), "dflow-ssh-transport-"));
afterAll(() => rmSync(LOCAL_TMP, { recursive: true, force: true }));

function opts(h: Hpc, extra: Partial<SSHTransportOptions> = {}): SSHTransportOptions {
  return {
    hostname: h.host,
    port: h.port,
    username: h.user,
    key_filename: h.privateKeyPath,
    known_hosts: h.knownHostsPath,
    look_for_keys: false,
    ...extra,
  };
}

const open: SSHTransport[] = [];
function transport(h: Hpc, extra: Partial<SSHTransportOptions> = {}): SSHTransport {
  const t = new SSHTransport(opts(h, extra));
  open.push(t);
  return t;
}
afterAll(async () => {
  await Promise.all(open.map((t) => t.close().catch(() => undefined)));
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

function localFile(name: string, content: string | Buffer): string {
  const p = join(LOCAL_TMP, name);
  writeFileSync(p, content);
  return p;
}

// ---------------------------------------------------------------------------------------------
// TOTP
// ---------------------------------------------------------------------------------------------

describe("TOTP (RFC 6238, SHA-1)", () => {
  // RFC 6238 Appendix B seed for SHA-1: ASCII "12345678901234567890".
  const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

  it("base32 decodes the RFC seed (case, spaces and padding tolerated)", () => {
    expect(base32Decode(SECRET).toString("latin1")).toBe("12345678901234567890");
    expect(base32Decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").toString("latin1")).toBe("12345678901234567890");
    expect(base32Decode("MZXW6===").toString()).toBe("foo");
    expect(() => base32Decode("abc1")).toThrow(/base32/);
  });

  it("matches the RFC 6238 test vectors (8 digits) and their 6-digit truncation", () => {
    const vectors: Array<[number, string]> = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [t, code] of vectors) {
      expect(totpCode(SECRET, t * 1000, 8)).toBe(code);
      expect(totpCode(SECRET, t * 1000)).toBe(code.slice(2));
    }
  });

  it("matches the RFC 4226 HOTP vectors (counter = time / 30 s)", () => {
    const hotp = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    hotp.forEach((code, counter) => expect(totpCode(SECRET, counter * 30_000 + 29_999)).toBe(code));
  });
});

// ---------------------------------------------------------------------------------------------
// known_hosts
// ---------------------------------------------------------------------------------------------

describe("known_hosts matching", () => {
  const blob = (type: string, fill = randomBytes(32)) => {
    const t = Buffer.from(type);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(t.length);
    const l2 = Buffer.alloc(4);
    l2.writeUInt32BE(fill.length);
    return Buffer.concat([len, t, l2, fill]);
  };
  const ed = blob("ssh-ed25519");
  const other = blob("ssh-ed25519");
  const rsa = blob("ssh-rsa");
  const line = (hosts: string, k: Buffer, marker = "") =>
    `${marker ? marker + " " : ""}${hosts} ${k.subarray(4, 4 + k.readUInt32BE(0)).toString()} ${k.toString("base64")} comment`;
  const hashed = (name: string) => {
    const salt = randomBytes(20);
    return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
  };

  it("uses [host]:port for non-22 ports", () => {
    expect(knownHostsName("example.org", 22)).toBe("example.org");
    expect(knownHostsName("10.0.0.1", 2222)).toBe("[10.0.0.1]:2222");
    expect(checkKnownHosts(line("[10.0.0.1]:2222", ed), "10.0.0.1", 2222, ed).status).toBe("match");
    expect(checkKnownHosts(line("10.0.0.1", ed), "10.0.0.1", 2222, ed).status).toBe("unknown");
    expect(checkKnownHosts(line("10.0.0.1", ed), "10.0.0.1", 22, ed).status).toBe("match");
  });

  it("understands hashed entries, lists, wildcards, negation, comments and markers", () => {
    expect(checkKnownHosts(line(hashed("[h.example]:2200"), ed), "h.example", 2200, ed).status).toBe("match");
    expect(checkKnownHosts(line(hashed("h.example"), ed), "h.example", 2200, ed).status).toBe("unknown");
    expect(knownHostsFieldMatches("a.example,b.example", "b.example")).toBe(true);
    expect(knownHostsFieldMatches("*.example,!bad.example", "good.example")).toBe(true);
    expect(knownHostsFieldMatches("*.example,!bad.example", "bad.example")).toBe(false);
    expect(knownHostsFieldMatches("node?", "node7")).toBe(true);
    expect(knownHostsFieldMatches("H.Example", "h.example")).toBe(true);
    const text = ["# comment", "", line("@cert-authority *", other), line("h.example", ed)].join("\n");
    expect(checkKnownHosts(text, "h.example", 22, ed)).toEqual({ status: "match", line: 4 });
    expect(checkKnownHosts(line("h.example", ed, "@revoked"), "h.example", 22, ed).status).toBe("revoked");
  });

  it("reports a different key of the same type as a mismatch, other types as unknown", () => {
    expect(checkKnownHosts(line("h", other), "h", 22, ed)).toEqual({ status: "mismatch", line: 1, keyType: "ssh-ed25519" });
    expect(checkKnownHosts(line("h", rsa), "h", 22, ed)).toEqual({ status: "unknown", otherTypes: ["ssh-rsa"] });
    // a matching line wins over a stale one
    expect(checkKnownHosts([line("h", other), line("h", ed)].join("\n"), "h", 22, ed).status).toBe("match");
  });

  it("fingerprints like ssh-keygen -l", () => {
    const h = HPC;
    if (!h) return; // needs the real host key; the pure format is checked below
    const b = Buffer.from(h.hostPublicKey.split(" ")[1]!, "base64");
    expect(sshFingerprint(b)).toBe(h.hostKeyFingerprint);
    expect(sshFingerprint(Buffer.from("x"))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Authentication order against an in-process ssh2 server (the local sshd offers publickey only)
// ---------------------------------------------------------------------------------------------

/**
 * An ed25519 key pair ssh2 can read back: its generateKeyPairSync drops a public key's leading zero
 * byte, so about 1 key in 256 does not parse (mscdex/ssh2#1513, #1390); such a pair is made again.
 */
function ed25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519");
    if (!(ssh2.utils.parseKey(pair.public) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

describe("authentication order (in-process ssh2 server)", () => {
  const SECRET = "JBSWY3DPEHPK3PXP";
  const hostKey = ed25519KeyPair();
  const userKey = ed25519KeyPair();
  const userPub = ssh2.utils.parseKey(userKey.public) as ssh2.ParsedKey;
  let server: ssh2.Server;
  let port = 0;
  let knownHosts = "";
  let userKeyFile = "";
  /** "kbd": keyboard-interactive only; "2fa": publickey, then keyboard-interactive (partial success). */
  let mode: "kbd" | "2fa" = "kbd";
  let attempts: string[] = [];

  beforeAll(async () => {
    server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
      let keyOk = false;
      client.on("authentication", (ctx) => {
        attempts.push(ctx.method);
        if (ctx.method === "publickey" && mode === "2fa") {
          if (!ctx.key.data.equals(userPub.getPublicSSH())) return ctx.reject(["publickey"]);
          if (!ctx.signature) return ctx.accept(); // "would this key do?"
          if (!ctx.blob || userPub.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(["publickey"]);
          keyOk = true;
          return ctx.reject(["keyboard-interactive"], true);
        }
        if (ctx.method === "keyboard-interactive" && (mode === "kbd" || keyOk)) {
          return ctx.prompt(
            [
              { prompt: "Password: ", echo: false },
              { prompt: "Verification code: ", echo: true },
            ],
            (answers) => {
              // Like real servers, accept the previous period's code too: the client computed
              // its code a moment ago, possibly just before a 30 s boundary.
              const ok = answers[0] === "pw" && [totpCode(SECRET), totpCode(SECRET, Date.now() - 30_000)].includes(answers[1]!);
              if (ok) ctx.accept();
              else ctx.reject(["keyboard-interactive"], mode === "2fa");
            },
          );
        }
        ctx.reject(mode === "2fa" && !keyOk ? ["publickey"] : ["keyboard-interactive"]);
      });
      client.on("ready", () => {
        client.on("session", (accept) => {
          accept().on("exec", (acceptExec, _reject, info) => {
            const stream = acceptExec();
            stream.write(`ran ${info.command}\n`);
            stream.exit(0);
            stream.end();
          });
        });
      });
      client.on("error", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as net.AddressInfo).port;
    knownHosts = localFile("known_hosts.inproc", `[127.0.0.1]:${port} ${hostKey.public.split(" ").slice(0, 2).join(" ")}\n`);
    userKeyFile = localFile("inproc_id_ed25519", userKey.private);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const make = (extra: Partial<SSHTransportOptions>) => {
    const t = new SSHTransport({
      hostname: "127.0.0.1",
      port,
      username: "u",
      known_hosts: knownHosts,
      look_for_keys: false,
      ...extra,
    });
    open.push(t);
    return t;
  };

  it("keyboard-interactive answers 'password' prompts with the password and 'verification' prompts with the TOTP code", async () => {
    mode = "kbd";
    attempts = [];
    const t = make({ password: "pw", totp_secret: SECRET });
    expect((await t.exec("hostname")).stdout).toBe("ran hostname\n");
    expect(attempts).toEqual(["keyboard-interactive"]);
    await t.close();
  });

  it("2FA: key first, then keyboard-interactive when the server asks for more (partial success)", async () => {
    mode = "2fa";
    attempts = [];
    const t = make({ key_filename: userKeyFile, password: "pw", totp_secret: SECRET });
    expect((await t.exec("id")).stdout).toBe("ran id\n");
    expect(attempts[0]).toBe("publickey");
    expect(attempts[attempts.length - 1]).toBe("keyboard-interactive");
    await t.close();
  });

  it("a wrong TOTP secret fails after 6 tries (1 s apart) with a hint", async () => {
    mode = "kbd";
    attempts = [];
    const t = make({ password: "pw", totp_secret: "GEZDGNBVGY3TQOJQ" });
    const e = await rejection(t.exec("true"));
    expect(e).toBeInstanceOf(SSHAuthError);
    expect(e.message).toContain(`u@127.0.0.1:${port}`);
    expect(e.message).toMatch(/totp_secret/);
    expect(attempts.filter((a) => a === "keyboard-interactive")).toHaveLength(6);
  });
});

// ---------------------------------------------------------------------------------------------
// LoopbackTransport
// ---------------------------------------------------------------------------------------------

describe("LoopbackTransport", () => {
  it("runs commands through /bin/sh with extra env, PATH stand-ins and cwd", async () => {
    const home = mkdtempSync(join(LOCAL_TMP, "home-"));
    const bin = join(home, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "sbatch"), "#!/bin/sh\necho \"stand-in sbatch $*\"\n", { mode: 0o755 });
    const lines: string[] = [];
    const t = new LoopbackTransport({
      home,
      env: { PATH: `${bin}:${process.env.PATH}`, DFLOW_X: "42" },
      transcript: (l) => lines.push(l),
    });
    expect(await t.home()).toBe(home);
    expect(await t.exec("pwd; echo $DFLOW_X; echo oops >&2; exit 7")).toEqual({
      code: 7,
      stdout: `${home}\n42\n`,
      stderr: "oops\n",
    });
    expect((await t.exec("sbatch --parsable job.sub")).stdout).toBe("stand-in sbatch --parsable job.sub\n");
    expect((await t.exec("kill -9 $$")).code).toBeNull();
    const sub = join(home, "sub");
    mkdirSync(sub);
    expect((await new LoopbackTransport({ home, cwd: "sub" }).exec("pwd")).stdout).toBe(`${sub}\n`);
    expect(lines[0]).toBe("exec pwd; echo $DFLOW_X; echo oops >&2; exit 7");
  });

  it("does the file operations (relative paths resolve against home)", async () => {
    const home = mkdtempSync(join(LOCAL_TMP, "home-"));
    const lines: string[] = [];
    const t = new LoopbackTransport({ home, transcript: (l) => lines.push(l) });
    await t.mkdir("w");
    await t.mkdir("w"); // exists: ignored
    await t.mkdir("no/such/parent"); // ignored too
    await t.writeFile("w/a.txt", "hello");
    expect((await t.readFile(join(home, "w/a.txt"))).toString()).toBe("hello");
    expect(await t.stat("w/a.txt")).toEqual({ isFile: true, isDirectory: false, size: 5 });
    expect(await t.stat("w")).toMatchObject({ isFile: false, isDirectory: true });
    expect(await t.stat("w/missing")).toBeNull();
    expect(await t.stat("w/a.txt/below")).toBeNull();
    symlinkSync(join(home, "w/a.txt"), join(home, "w/link"));
    expect(await t.stat("w/link")).toMatchObject({ isFile: true });
    await t.mkdir("w/d");
    await t.mkdir("w/d/e");
    await t.writeFile("w/d/e/deep.txt", "x");
    symlinkSync(join(home, "w/d"), join(home, "w/dirlink"));
    expect(await t.listdir("w")).toEqual(["a.txt", "d", "dirlink", "link"]);
    expect(await t.walkFiles("w")).toEqual(["a.txt", "d/e/deep.txt"]);
    const src = localFile("loop-put.bin", randomBytes(1000));
    await t.put(src, "w/put.bin");
    const back = join(LOCAL_TMP, "loop-get.bin");
    await t.get("w/put.bin", back);
    expect(readFileSync(back).equals(readFileSync(src))).toBe(true);
    await t.remove("w/put.bin");
    expect(await t.stat("w/put.bin")).toBeNull();
    await expect(t.remove("w/put.bin")).rejects.toThrow(/ENOENT/);
    expect(lines.slice(0, 5)).toEqual([
      "sftp mkdir w",
      "sftp mkdir w",
      "sftp mkdir no/such/parent",
      "sftp open w/a.txt w",
      `sftp open ${join(home, "w/a.txt")} r`,
    ]);
    expect(lines).toContain("sftp put w/put.bin");
    expect(lines).toContain("sftp get w/put.bin");
    expect(lines).toContain("sftp remove w/put.bin");
    expect(lines).toContain("sftp listdir w/d/e");
    await t.close();
  });
});

// ---------------------------------------------------------------------------------------------
// SSHTransport against the real sshd
// ---------------------------------------------------------------------------------------------

describe("SSHTransport (real sshd)", () => {
  let t: SSHTransport;
  let work: string; // remote scratch directory
  const lines: string[] = [];

  beforeAll(async () => {
    if (PROBLEM) return;
    const h = need();
    t = transport(h, { transcript: (l) => lines.push(l) });
    work = `${h.homeDir}/dflow-ssh-transport-test-${process.pid}-${Date.now()}`;
    await t.mkdir(work);
  });
  afterAll(async () => {
    if (PROBLEM || !t) return;
    await t.exec(`rm -rf '${work}'`).catch(() => undefined);
  });

  itHpc("logs in with the ed25519 key; exec returns exit codes, stdout and stderr", async () => {
    const h = need();
    expect(t.describe).toBe(`${h.user}@${h.host}:${h.port}`);
    expect(await t.exec("echo out; echo err >&2; exit 3")).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
    expect(await t.exec("true")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await t.exec("printf 'ü\\n'")).stdout).toBe("ü\n");
    expect((await t.exec("kill -9 $$")).code).toBeNull();
    expect((await t.exec("whoami")).stdout.trim()).toBe(h.user);
    expect(await t.home()).toBe(h.homeDir);
    expect(t.connections).toBe(1);
  });

  itHpc("logs in with the RSA PEM key", async () => {
    const h = need();
    const r = transport(h, { key_filename: h.rsaPrivateKeyPath });
    expect((await r.exec("echo rsa")).stdout).toBe("rsa\n");
    expect(r.connections).toBe(1);
    await r.close();
  });

  itHpc("concurrent first calls share one connection", async () => {
    const h = need();
    const c = transport(h);
    const res = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => c.exec(`echo ${i}`)),
      c.home(),
      c.stat(h.homeDir),
    ]);
    expect(res.slice(0, 12).map((r) => (r as { stdout: string }).stdout)).toEqual(
      Array.from({ length: 12 }, (_, i) => `${i}\n`),
    );
    expect(c.connections).toBe(1);
    await c.close();
  });

  itHpc("does SFTP write/read/stat/listdir/walkFiles/put/get/remove", async () => {
    need();
    const d = `${work}/sftp`;
    lines.length = 0;
    await t.mkdir(d);
    await t.mkdir(d); // already exists: ignored
    await t.mkdir(`${d}/no/such/parent`); // ignored
    await t.writeFile(`${d}/a.txt`, "hello\n");
    await t.writeFile(`${d}/b.bin`, Buffer.from([0, 1, 2, 255]));
    expect((await t.readFile(`${d}/a.txt`)).toString()).toBe("hello\n");
    expect([...(await t.readFile(`${d}/b.bin`))]).toEqual([0, 1, 2, 255]);
    expect(await t.stat(`${d}/a.txt`)).toEqual({ isFile: true, isDirectory: false, size: 6 });
    expect(await t.stat(d)).toMatchObject({ isFile: false, isDirectory: true });
    expect(await t.stat(`${d}/missing`)).toBeNull();
    // stat follows symlinks; walkFiles does not descend into directory symlinks
    await t.mkdir(`${d}/sub`);
    await t.mkdir(`${d}/sub/deeper`);
    await t.writeFile(`${d}/sub/deeper/x.out`, "x");
    await t.writeFile(`${d}/sub/with space.txt`, "y");
    expect((await t.exec(`cd '${d}' && ln -s a.txt link && ln -s sub dirlink`)).code).toBe(0);
    expect(await t.stat(`${d}/link`)).toMatchObject({ isFile: true, size: 6 });
    expect(await t.stat(`${d}/dirlink`)).toMatchObject({ isDirectory: true });
    expect(await t.listdir(d)).toEqual(["a.txt", "b.bin", "dirlink", "link", "sub"]);
    expect(await t.walkFiles(d)).toEqual(["a.txt", "b.bin", "sub/deeper/x.out", "sub/with space.txt"]);
    // put / get (fastPut / fastGet), a few MB to use the parallel path
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const src = localFile("put.bin", big);
    await t.put(src, `${d}/put.bin`);
    expect(await t.stat(`${d}/put.bin`)).toMatchObject({ isFile: true, size: big.length });
    expect((await t.exec(`sha256sum < '${d}/put.bin'`)).stdout.split(" ")[0]).toBe(
      (await import("node:crypto")).createHash("sha256").update(big).digest("hex"),
    );
    const back = join(LOCAL_TMP, "get.bin");
    await t.get(`${d}/put.bin`, back);
    expect(readFileSync(back).equals(big)).toBe(true);
    await t.remove(`${d}/put.bin`);
    expect(await t.stat(`${d}/put.bin`)).toBeNull();
    // non-connection errors are thrown as they are (no reconnect)
    const e1 = await rejection(t.remove(`${d}/put.bin`));
    expect((e1 as Error & { code?: number }).code).toBe(2);
    expect(e1.message).toContain(`${d}/put.bin`);
    const e2 = await rejection(t.readFile(`${d}/nope`));
    expect(e2.message).toMatch(/No such file/);
    await expect(t.listdir(`${d}/nope`)).rejects.toThrow(/No such file/);
    expect(t.connections).toBe(1);
    expect(lines.slice(0, 6)).toEqual([
      `sftp mkdir ${d}`,
      `sftp mkdir ${d}`,
      `sftp mkdir ${d}/no/such/parent`,
      `sftp open ${d}/a.txt w`,
      `sftp open ${d}/b.bin w`,
      `sftp open ${d}/a.txt r`,
    ]);
    for (const l of [`sftp stat ${d}/missing`, `sftp put ${d}/put.bin`, `sftp get ${d}/put.bin`, `sftp remove ${d}/put.bin`, `sftp listdir ${d}`, `exec sha256sum < '${d}/put.bin'`])
      expect(lines).toContain(l);
  });

  itHpc("accepts the host listed in known_hosts (plain, hashed, and only the RSA key)", async () => {
    const h = need();
    const plain = readFileSync(h.knownHostsPath, "utf8");
    // hashed with ssh-keygen -H, i.e. the real |1|salt|hash format
    const hashedFile = join(LOCAL_TMP, "known_hosts.hashed");
    writeFileSync(hashedFile, plain);
    execFileSync("ssh-keygen", ["-H", "-f", hashedFile], { stdio: "ignore" });
    expect(readFileSync(hashedFile, "utf8")).toMatch(/^\|1\|/);
    const rsaOnly = localFile(
      "known_hosts.rsa",
      plain.split("\n").filter((l) => l.includes("ssh-rsa")).join("\n") + "\n",
    );
    for (const known_hosts of [h.knownHostsPath, hashedFile, rsaOnly]) {
      const c = transport(h, { known_hosts });
      expect((await c.exec("echo ok")).stdout).toBe("ok\n");
      await c.close();
    }
  });

  itHpc("rejects an unknown host with the fingerprint, the file and how to add it", async () => {
    const h = need();
    const empty = localFile("known_hosts.empty", "");
    const log: string[] = [];
    const c = transport(h, { known_hosts: empty, log: (m) => log.push(m) });
    const e = await rejection(c.exec("true"));
    expect(e).toBeInstanceOf(SSHHostKeyError);
    expect(e.message).toContain(`${h.user}@${h.host}:${h.port}`);
    expect(e.message).toContain(h.hostKeyFingerprint);
    expect(e.message).toContain(empty);
    expect(e.message).toContain(`ssh-keyscan -p ${h.port} ${h.host} >> ${empty}`);
    expect(e.message).toContain("strict_host_key_checking: false");
    expect(c.connections).toBe(0);
    // permanent: a second call fails the same way, and nothing was retried
    await expect(c.exec("true")).rejects.toBeInstanceOf(SSHHostKeyError);
    expect(log.filter((l) => /retrying/.test(l))).toEqual([]);
  });

  itHpc("refuses a changed host key (possible man-in-the-middle)", async () => {
    const h = need();
    const fake = ed25519KeyPair().public.split(" ").slice(0, 2).join(" ");
    const file = localFile("known_hosts.changed", `${knownHostsName(h.host, h.port)} ${fake}\n`);
    const e = await rejection(transport(h, { known_hosts: file }).exec("true"));
    expect(e).toBeInstanceOf(SSHHostKeyError);
    expect(e.message).toMatch(/HAS CHANGED/);
    expect(e.message).toMatch(/man-in-the-middle/);
    expect(e.message).toContain(h.hostKeyFingerprint);
  });

  itHpc("strict_host_key_checking: false accepts any host key, with a warning", async () => {
    const h = need();
    const log: string[] = [];
    const c = transport(h, {
      known_hosts: localFile("known_hosts.empty2", ""),
      strict_host_key_checking: false,
      log: (m) => log.push(m),
    });
    expect((await c.exec("echo insecure")).stdout).toBe("insecure\n");
    expect(log.join("\n")).toMatch(/WARNING: strict_host_key_checking is false/);
    expect(log.join("\n")).toContain(h.hostKeyFingerprint);
  });

  itHpc("a key the server does not know ⇒ clear authentication error", async () => {
    const h = need();
    const wrong = localFile("wrong_id_ed25519", ed25519KeyPair().private);
    const e = await rejection(transport(h, { key_filename: wrong }).exec("true"));
    expect(e).toBeInstanceOf(SSHAuthError);
    expect(e.message).toContain(`${h.user}@${h.host}:${h.port}`);
    expect(e.message).toContain(wrong);
    expect(e.message).toMatch(/authorized_keys/);
    expect(e.message).toMatch(/password/);
  });

  itHpc("a missing key file ⇒ error naming the path", async () => {
    const h = need();
    const missing = join(LOCAL_TMP, "does-not-exist", "id_ed25519");
    const e = await rejection(transport(h, { key_filename: missing }).exec("true"));
    expect(e).toBeInstanceOf(SSHConnectError);
    expect(e.message).toContain(missing);
    expect(e.message).toContain("key_filename");
  });

  itHpc("password login is rejected by this server with a clear message", async () => {
    const h = need();
    const e = await rejection(transport(h, { key_filename: null, password: "secret" }).exec("true"));
    expect(e).toBeInstanceOf(SSHAuthError);
    expect(e.message).toContain(`${h.user}@${h.host}:${h.port}`);
    expect(e.message).toMatch(/does not accept password authentication/);
    expect(e.message).toMatch(/provide key_filename/);
  });

  itHpc("no authentication method at all ⇒ 'provide key_filename or password'", async () => {
    const h = need();
    const e = await rejection(transport(h, { key_filename: null, look_for_keys: false }).exec("true"));
    expect(e).toBeInstanceOf(SSHAuthError);
    expect(e.message).toContain(`${h.user}@${h.host}:${h.port}`);
    expect(e.message).toMatch(/provide key_filename or password/);
  });

  itHpc("connects through proxy_command", async (ctx) => {
    const h = need();
    const tool = ["socat", "nc", "ncat"].find((x) => spawnSync("sh", ["-c", `command -v ${x}`]).status === 0);
    if (!tool) {
      console.log("[ssh-transport.test] skipping proxy_command: none of socat, nc, ncat is installed");
      ctx.skip();
      return;
    }
    const cmd = tool === "socat" ? `socat - TCP:${h.host}:${h.port}` : `${tool} ${h.host} ${h.port}`;
    const c = transport(h, { proxy_command: cmd });
    expect((await c.exec("echo proxied")).stdout).toBe("proxied\n");
    await c.writeFile(`${work}/proxied.txt`, "p");
    expect((await c.readFile(`${work}/proxied.txt`)).toString()).toBe("p");
    expect(c.connections).toBe(1);
    await c.close();
    // a proxy that cannot reach anything: clear error, mentions the target
    const bad = transport(h, { proxy_command: "echo 'proxy: no route' >&2; exit 1", timeout: 5 });
    const e = await rejection(bad.exec("true"));
    expect(e.message).toContain(`${h.user}@${h.host}:${h.port}`);
    expect(e.message).toContain("proxy: no route");
  });

  itHpc("gives up after reconnect.attempts; close() cuts the back-off short, also when it comes during an attempt", async (ctx) => {
    const h = need();
    if (spawnSync("sh", ["-c", "command -v socat"]).status !== 0) {
      console.log("[ssh-transport.test] skipping reconnect give-up test: socat is not installed");
      ctx.skip();
      return;
    }
    // A proxy that can be cut (kill its PID) and then refuses to reconnect (flag file); with the
    // hold file named in the flag it first says it started, then waits for the hold file.
    const flag = join(LOCAL_TMP, "proxy-off");
    const pidFile = join(LOCAL_TMP, "proxy.pid");
    const started = join(LOCAL_TMP, "proxy-started");
    const proxy_command =
      `if [ -e '${flag}' ]; then h=$(cat '${flag}'); if [ -n "$h" ]; then touch '${started}'; while [ ! -e "$h" ]; do sleep 0.05; done; fi; ` +
      `echo 'proxy is switched off' >&2; exit 1; fi; echo $$ > '${pidFile}'; exec socat - TCP:${h.host}:${h.port}`;
    const cut = async (hold = "") => {
      writeFileSync(flag, hold);
      const pid = Number(readFileSync(pidFile, "utf8"));
      process.kill(pid, "SIGKILL");
      await waitFor("the proxy to die", () => !running(pid));
    };
    const HOUR = 3_600_000; // a back-off nobody waits for: only close() can end it
    try {
      const log: string[] = [];
      const c = transport(h, { proxy_command, reconnect: { attempts: 3, initialDelayMs: 100, maxDelayMs: 200 }, log: (m) => log.push(m) });
      expect((await c.exec("echo up")).stdout).toBe("up\n");
      await cut();
      const e = await rejection(c.exec("true"));
      expect(e).toBeInstanceOf(SSHConnectError);
      expect(e.message).toContain(`${h.user}@${h.host}:${h.port}`);
      expect(e.message).toMatch(/3 reconnect attempts failed/);
      expect(e.message).toContain("proxy is switched off");
      expect(c.connections).toBe(1);
      expect(log.filter((l) => /reconnect to .* failed/.test(l))).toHaveLength(2);

      // close() while the transport sleeps in its back-off
      rmSync(flag, { force: true });
      const slowLog: string[] = [];
      const slow = transport(h, { proxy_command, reconnect: { attempts: 10, initialDelayMs: HOUR }, log: (m) => slowLog.push(m) });
      await slow.exec("true");
      await cut();
      const pending = rejection(slow.exec("true"));
      await waitFor("the first reconnect to fail", () => slowLog.some((l) => /failed \(attempt 1\/10\).*retrying in 3600000 ms/.test(l)));
      await slow.close();
      expect((await pending).message).toMatch(/closed/);
      expect(slow.connections).toBe(1);

      // close() while a reconnect attempt is under way: the back-off after it must not start
      rmSync(flag, { force: true });
      rmSync(started, { force: true });
      const hold = join(LOCAL_TMP, "proxy-hold");
      const mid = transport(h, { proxy_command, reconnect: { attempts: 10, initialDelayMs: HOUR } });
      await mid.exec("true");
      await cut(hold);
      const pending2 = rejection(mid.exec("true"));
      await waitFor("the reconnect attempt to start", () => existsSync(started));
      const closing = mid.close();
      writeFileSync(hold, "");
      await closing;
      expect((await pending2).message).toMatch(/closed/);
      expect(mid.connections).toBe(1);
    } finally {
      rmSync(flag, { force: true });
    }
  });

  itHpc("runs execute_command after connecting", async () => {
    const h = need();
    const marker = `${work}/execute_command.ran`;
    const c = transport(h, { execute_command: `echo $$ >> '${marker}'` });
    await c.home();
    await waitFor("execute_command marker", async () => (await c.stat(marker)) !== null);
    await c.close();
  });

  itHpc("after close(): operations fail and nothing reconnects", async () => {
    const h = need();
    const c = transport(h);
    await c.exec("true");
    await c.close();
    await expect(c.exec("true")).rejects.toThrow(/closed/);
    await expect(c.stat("/")).rejects.toThrow(/closed/);
    expect(c.connections).toBe(1);
  });

  itSshd("re-runs an exec whose connection drops while it runs", async () => {
    const h = needSshd();
    const log: string[] = [];
    const c = transport(h, { reconnect: { attempts: 1000, initialDelayMs: 200, maxDelayMs: 1000 }, log: (m) => log.push(m) });
    const session = Number((await c.exec("echo $PPID")).stdout.trim());
    const monitor = ppidOf(session);
    expect(readFileSync(`/proc/${monitor}/cmdline`, "utf8")).toMatch(/sshd/);
    // The command says it started, then waits for a file: the connection is cut while it
    // certainly runs, and it can only finish after the test has seen it start a second time.
    // (The cluster is this machine: its files are read and written here directly.)
    const marker = `${work}/inflight.count`;
    const gate = `${work}/inflight.go`;
    const p = c.exec(`echo run >> '${marker}'; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo finished`);
    await waitFor("the command to start", () => fileIs(marker, "run\n"));
    killGone(session);
    killGone(monitor);
    await waitFor("the command to run again", () => fileIs(marker, "run\nrun\n"));
    writeFileSync(gate, "");
    const res = await p;
    expect(res).toEqual({ code: 0, stdout: "finished\n", stderr: "" });
    expect(c.connections).toBe(2);
    expect(readFileSync(marker, "utf8")).toBe("run\nrun\n");
    expect(log.join("\n")).toMatch(/connection lost/);
  });

  itSshd("sshd killed and restarted while in use: the next calls reconnect (connections = 2)", async () => {
    const h = needSshd();
    const log: string[] = [];
    // Enough attempts to outlast any restart of sshd: the test is about reconnecting, not giving up.
    const c = transport(h, { reconnect: { attempts: 1000, initialDelayMs: 200, maxDelayMs: 1000 }, log: (m) => log.push(m) });
    try {
      expect((await c.exec("echo before")).stdout).toBe("before\n");
      await c.writeFile(`${work}/restart.txt`, "kept"); // opens the SFTP session
      const session = Number((await c.exec("echo $PPID")).stdout.trim());
      const monitor = ppidOf(session);
      const listener = sshdPid(h)!;
      expect(ppidOf(monitor)).toBe(listener);
      // kill sshd: the listener (as stop-local-hpc.sh does) and our connection's processes
      await stopSshd(h);
      killGone(session);
      killGone(monitor);
      expect(await probeSsh(h.host, h.port)).toBeDefined(); // really down
      // calls made while the server is down wait for the (single) reconnect
      const pending = Promise.all([c.exec("echo after"), c.readFile(`${work}/restart.txt`), c.stat(`${work}/restart.txt`)]);
      await waitFor("a reconnect to fail while sshd is down", () => log.some((l) => /reconnect to .* failed \(attempt 1\/1000\)/.test(l)));
      await startSshd(h);
      const [ex, content, st] = await pending;
      expect(ex).toEqual({ code: 0, stdout: "after\n", stderr: "" });
      expect(content.toString()).toBe("kept");
      expect(st).toMatchObject({ isFile: true, size: 4 });
      expect(c.connections).toBe(2);
      expect(sshdPid(h)).not.toBe(listener);
      expect(log.join("\n")).toMatch(/reconnect to .* failed \(attempt 1\/1000\)/);
      expect(log.join("\n")).toMatch(/reconnected to/);
      // and it keeps working on the new connection
      expect((await c.exec("echo still")).stdout).toBe("still\n");
      expect(c.connections).toBe(2);
    } finally {
      await ensureSshd(h);
    }
  });
});
