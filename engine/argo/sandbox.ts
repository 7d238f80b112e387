// A container run as a local process (argo-semantics §2, argo-examples
// README "runnable locally"): the image is ignored except for its
// entrypoint; every node gets its own file-system view under <node dir>/root,
// so that parallel nodes writing the same container path (every loop child
// writes its own /tmp/num) never meet. Where Linux allows it, every container
// gets a root of its own there (rootfs.ts: this machine's directories,
// copy-on-write, entered by chroot): its texts keep their container paths, and
// whatever it writes stays in the node. Where a mount namespace is all there
// is, a pod that declares or names files under /tmp or /mnt gets those two
// as the node's (isolate()), and other roots (/outputs, /data, ... and the
// paths the template declares) are moved by path rewriting in command, args,
// env values and script source; without one, /tmp and /mnt are rewritten too.
// Shims stand in for the images' tools: /argosay (argosay:v2), cowsay, node
// (this machine's).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { symlinkAtomicSync } from "../store/fsx.js";
import { type Layer, chrootPath, fstabLine, isDirectory, layerSafe, overlayOptions, removeWorkTree, rootLayers } from "./rootfs.js";

/** The host's own system directories: read from the host (an image has them too), never rewritten. */
const SYSTEM = new Set(["etc", "usr", "bin", "sbin", "lib", "lib64", "proc", "dev", "sys", "run"]);

/** Roots that containers write under; a declared path adds its own first component. */
const ROOTS = ["tmp", "mnt", "outputs", "argo", "work", "workdir", "data", "src", "output", "input", "inputs", "results", "app"];

const ARGOSAY = `#!/bin/sh
# argoproj/argosay:v2 (test/e2e/images/argosay/v2/argosay), for local runs.
set -eu
case "\${1:-echo}" in
  assert_contains) grep -F "$3" "$2" ;;
  cat) cat "$2" ;;
  echo)
    case $# in
      0|1) echo hello argo ;;
      2) echo "$2" ;;
      3) mkdir -p "$(dirname "$3")"; echo "$2" > "$3"; sleep 0.1 ;;
      *) ;;
    esac ;;
  exit) exit "\${2:-0}" ;;
  sleep) sleep "$2" ;;
  sh) sh "$2" ;;
  *) exit 1 ;;
esac
`;

const COWSAY = `#!/bin/sh
# docker/whalesay, argoproj/argosay:v1: the text is enough.
echo "$*"
`;

// The images' sh is busybox ash (alpine, busybox) or bash: $RANDOM, `[[`, `echo` without escapes.
// bash in POSIX mode is closer to them than dash. The shim is a link named sh to bash, which bash
// takes as its POSIX mode (as --posix): one exec per pod's shell, where a script that exec'd
// `bash --posix` cost two.
const BASH = "/bin/bash";

const PYTHON = `#!/bin/sh
exec python3 "$@"
`;

let shimDir: string | undefined;

/** The directory of the shims (written once per engine process). */
export function shims(base: string): string {
  if (shimDir) return shimDir;
  const dir = path.join(base, ".argo-bin");
  fs.mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = { argosay: ARGOSAY, cowsay: COWSAY };
  const link = (name: string, target: string) => {
    const f = path.join(dir, name);
    let now: string | null = null;
    try {
      now = fs.readlinkSync(f);
    } catch {
      // none yet, or the script an earlier version wrote
    }
    // A temp name of this process's own: engines starting at once each replace the link whole.
    if (now !== target) symlinkAtomicSync(target, f);
  };
  if (fs.existsSync(BASH)) link("sh", BASH);
  // A node image's `node` is the node running this engine, whatever the tag: the only one known to
  // be here, and the one dflow-ts's exported TS OPs were bundled for (not whichever `node` PATH finds).
  link("node", process.execPath);
  // Images with python provide `python`; so do we when the host has only python3.
  if (!onPath("python")) files.python = PYTHON;
  for (const [n, body] of Object.entries(files)) {
    const f = path.join(dir, n);
    if (!fs.existsSync(f) || fs.readFileSync(f, "utf8") !== body) {
      fs.writeFileSync(`${f}.tmp`, body, { mode: 0o755 });
      fs.renameSync(`${f}.tmp`, f);
    }
  }
  shimDir = dir;
  return dir;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => d && fs.existsSync(path.join(d, cmd)));
}

/** The image's ENTRYPOINT + CMD when `command` is not given (README "Image entrypoints"). */
export function imageDefaults(image: string): { entrypoint: string[]; cmd: string[] } | null {
  const base = image.replace(/^docker\.io\//, "").replace(/^library\//, "");
  if (/^argoproj\/argosay:v2/.test(base)) return { entrypoint: ["/argosay"], cmd: [] };
  if (/^(argoproj\/argosay:v1|docker\/whalesay)/.test(base)) return { entrypoint: [], cmd: ["cowsay"] };
  if (/^(busybox|alpine|ubuntu|debian|bash)(:|$)/.test(base)) return { entrypoint: [], cmd: [/^bash/.test(base) ? "bash" : "sh"] };
  if (/^python(:|$)/.test(base)) return { entrypoint: [], cmd: ["python3"] };
  if (/^node(:|$)/.test(base)) return { entrypoint: [], cmd: ["node"] };
  return null;
}

/** Rewrites container paths into one node's sandbox. */
export class Sandbox {
  private readonly re: RegExp;
  constructor(
    readonly root: string,
    declared: string[],
    readonly shimsDir: string,
    /** Container path prefix -> host directory: the pod's directory volumes, a containerSet's shared ones. */
    readonly mounts: Array<[string, string]> = [],
  ) {
    const roots = new Set(ROOTS);
    for (const p of declared) {
      const first = p.split("/").filter(Boolean)[0];
      if (p.startsWith("/") && first && !SYSTEM.has(first)) roots.add(first);
    }
    const alts = [...roots].map((r) => r.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
    // A path starts where no path or word character precedes it; /tmpfoo is not /tmp. Nor does a shell
    // expansion: `$(pwd)/tmp` and `${DIR}/tmp` are under the directory they expand to.
    this.re = new RegExp(`(?<![\\w.~$/)}-])/(?:${alts}|argosay)(?![\\w.-])[^\\s'"\`;|&<>(){},\\]]*`, "g");
  }

  /** Host path of a container path (absolute, or relative to the container's working directory). */
  host(p: string, cwd = "/"): string {
    // resolve() drops a trailing slash, which `"/mnt/out/" + name` needs.
    const abs = path.posix.resolve(cwd, p) + (p.endsWith("/") && p !== "/" ? "/" : "");
    for (const [prefix, dir] of this.mounts) if (abs === prefix || abs.startsWith(`${prefix}/`)) return path.join(dir, abs.slice(prefix.length));
    const first = abs.split("/")[1] ?? "";
    // In a root of its own, only the kernel's file systems are this machine's: /etc/config is the node's.
    if (SYSTEM.has(first) && !(this.layers && !KERNEL_ROOTS.includes(first))) return abs;
    return path.join(this.root, abs);
  }

  /**
   * A text (command word, argument, script) with its container paths moved into the sandbox. In the
   * pod's mount namespace, paths under the roots it makes the node's own stay as they are: the
   * program sees, and prints, the paths Argo's pod would. `inPod` false: for what runs outside
   * the namespace (a readiness probe).
   */
  rewrite(text: string, inPod = true): string {
    return text.replace(this.re, (full) => {
      // In a root of its own, every container path is the pod's: nothing to move (the shims are at POD_BIN).
      if (inPod && this.layers) return full === "/argosay" ? `${POD_BIN}/argosay` : full;
      if (full === "/argosay") return path.join(this.shimsDir, "argosay");
      if (inPod && this.ownRoots.includes(full.split("/")[1]!)) return full;
      // A volume the pod's namespace mounts at its path is named by that path, as in a container (/proc/mounts shows it so).
      if (inPod && this.mountedInNamespace.some((m) => full === m || full.startsWith(`${m}/`))) return full;
      return this.host(full);
    });
  }

  /** Volume mount paths that the pod's mount namespace will bind (set by willIsolate, before the texts are rewritten). */
  private mountedInNamespace: string[] = [];
  /** The roots the pod's mount namespace makes the node's own (set by willIsolate). */
  private ownRoots: string[] = [];
  /** The layout of the pod's own root (rootfs.ts), when it gets one (set by willIsolate). */
  private layers: Layer[] | null = null;

  /** Whether the pod gets a root of its own (known after willIsolate): its texts keep every container path, and it reaches this engine's files at POD_BIN and POD_STAGING. */
  get contained(): boolean {
    return this.layers !== null;
  }

  /**
   * The roots a pod's namespace would make its own: those it declares files under, or its texts
   * (command, args, script, env) name a path under (and this machine has).
   */
  private privateRoots(declared: string[], cwd: string, texts: string[]): string[] {
    // The container paths rewrite() would move, by their first component.
    const named = new Set(texts.flatMap((t) => [...t.matchAll(this.re)].map((m) => m[0].split("/")[1])));
    return PRIVATE_ROOTS.filter((r) => (declared.some((p) => path.posix.resolve(cwd, p).split("/")[1] === r) || named.has(r)) && isDirectory(`/${r}`));
  }

  /**
   * Whether isolate() will give the pod a mount namespace; asked before the
   * command and the environment are rewritten, so that the roots it makes
   * its own, and the volumes it will bind, keep their own paths in them.
   */
  willIsolate(declared: string[], cwd: string, texts: string[]): boolean {
    const flags = mountNamespace();
    if (!flags) return false;
    // A root of its own (rootfs.ts) for every pod: then its /tmp and /mnt are always its own, as in a container.
    const layers = layerSafe(this.root) ? rootLayers(flags, path.dirname(this.root), PRIVATE_ROOTS).layers : null;
    const roots = layers ? PRIVATE_ROOTS : this.privateRoots(declared, cwd, texts);
    if (!roots.length) return false;
    this.layers = layers;
    this.ownRoots = roots;
    this.mountedInNamespace = this.mounts.map(([prefix]) => prefix).filter((p) => roots.includes(p.split("/")[1]!));
    return true;
  }

  /**
   * A mount namespace for the pod, in which /tmp and /mnt are the node's
   * root/tmp and root/mnt (the roots willIsolate chose): its texts keep those
   * paths and a path built at run time lands in the node. Only for a pod that
   * declares files there or names them: the others are spared the ~10 ms. Host paths the pod
   * needs under those roots (`needed`, asked only then: the workflow's
   * directory, which holds the script, the shims and this sandbox, and
   * PATH-like values) are bound back at their place first. Null when not
   * needed or not possible.
   */
  async isolate(needed: () => string[], own?: OwnRoot): Promise<Isolation | null> {
    const roots = this.ownRoots;
    if (!roots.length) return null;
    const flags = mountNamespace();
    if (!flags) return null;
    if (this.layers && own) return await this.ownRoot(flags, this.layers, needed(), own);
    const cmds: string[] = [];
    const made: string[] = [];
    for (const r of roots) {
      const keep = new Set<string>();
      for (const p of needed()) {
        const parts = p.split("/");
        if (p.startsWith("/") && parts[1] === r && parts[2]) keep.add(parts[2]);
      }
      for (const k of [...keep].sort()) {
        const src = `/${r}/${k}`;
        const mp = path.join(this.root, r, k);
        let st: fs.Stats;
        try {
          st = fs.statSync(src);
        } catch {
          continue;
        }
        if (!fs.existsSync(mp)) {
          if (st.isDirectory()) fs.mkdirSync(mp, { recursive: true });
          else fs.writeFileSync(mp, "");
          made.push(mp);
        }
        cmds.push(`mount --bind ${shq(src)} ${shq(mp)}`);
      }
      // Volumes mounted under the root: bound at their mount path (a real mount, as /proc/mounts shows it).
      for (const [prefix, dir] of this.mounts) {
        if (prefix.split("/")[1] !== r) continue;
        const mp = path.join(this.root, prefix);
        if (!fs.existsSync(mp)) {
          fs.mkdirSync(mp, { recursive: true });
          made.push(mp);
        }
        cmds.push(`mount --bind ${shq(dir)} ${shq(mp)}`);
      }
      // Recursive: the binds just made inside come along. (root/tmp and root/mnt exist: prepare().)
      cmds.push(`mount --rbind ${shq(path.join(this.root, r))} ${shq(`/${r}`)}`);
    }
    return {
      flags,
      mounts: cmds.join(" && "),
      // Written to after all (a process the pod left behind): kept.
      done: async () => {
        for (const mp of made.reverse()) await removeIfEmpty(mp);
      },
    };
  }

  /**
   * The pod's own root (rootfs.ts), as the mounts of one fstab that `mount -a`
   * makes in the pod's namespace before it enters the root: this machine's
   * root as one overlay whose upper layer is the node's `root/` (as root), or
   * each of its directories as an overlay whose upper layer is the node's of
   * that name (in a user namespace); /tmp and /mnt the node's, holding only
   * the host paths the pod's environment names there; this engine's files at
   * the container paths the pod is given (own.binds); DFLOW_ARGO_HOST_DIRS at
   * their own place; the pod's volumes at their mount paths. Mount points
   * made in the node are removed after.
   */
  private async ownRoot(flags: string[], layers: Layer[], needed: string[], own: OwnRoot): Promise<Isolation> {
    const root = this.root;
    const realRoot = realpath(root);
    const work = `${root}.overlay-work`;
    const user = process.getuid?.() !== 0;
    // One overlay of `/` is mounted beside the node's root (its upper layer), which stays reachable.
    const whole = layers[0]?.path === "/";
    const top = whole ? path.join(work, "root") : root;
    const lines: string[] = [];
    // Made here, now (a few: the layout's links and the directories that hold them): removed by done().
    const made: string[] = [];
    // The mount points and overlayfs's work directories: planned first, then made and removed off
    // the engine's thread (libuv's pool). In a user namespace they are ~200 calls a pod, which made
    // and removed in line held up every other pod for 20-50 ms a pod on the machine this was
    // measured on (a child process doing them cost twice the CPU).
    const later = { dirs: [] as string[], files: [] as string[], work: [] as string[] };
    const planned = new Set<string>();
    const exists = (p: string) => planned.has(p) || fs.existsSync(p);
    const mkdir = (d: string, now = false) => {
      let parent = d;
      while (!exists(parent) && parent !== path.dirname(parent)) parent = path.dirname(parent);
      // Only inside the root: a link of the layout (/lib64 -> /usr/lib64) must not lead a mkdir to this machine's own directories.
      if (!planned.has(parent) && !realpath(parent).startsWith(`${realRoot}/`) && realpath(parent) !== realRoot) return false;
      // Each directory made, outermost first: removed innermost first.
      for (let m = parent; m !== d; ) {
        m = path.join(m, path.relative(m, d).split(path.sep)[0]!);
        if (now) {
          fs.mkdirSync(m);
          made.push(m);
        } else {
          later.dirs.push(m);
          planned.add(m);
        }
      }
      return true;
    };
    // A file's mount point: an empty file, in a directory made inside the root.
    const placeFile = (f: string) => {
      if (!mkdir(path.dirname(f))) return false;
      if (!exists(f)) {
        later.files.push(f);
        planned.add(f);
      }
      return true;
    };
    /** A mount point at container path `at`, made where the pod's root does not have it yet; false where it cannot be. */
    const point = (at: string, dir: boolean) => {
      // Over one overlay of `/`, what this machine has is there already (but in /tmp and /mnt, the node's).
      if (whole && !this.ownRoots.includes(at.split("/")[1]!) && fs.statSync(at, { throwIfNoEntry: false })?.isDirectory() === dir) return true;
      return dir ? mkdir(path.join(root, at)) : placeFile(path.join(root, at));
    };
    const bind = (host: string, at: string, how = "bind") => lines.push(fstabLine(host, path.join(top, at), "none", how));
    const workDir = (name: string) => {
      const w = path.join(work, name);
      later.work.push(w);
      return w;
    };
    fs.mkdirSync(work, { recursive: true });
    if (whole) {
      later.dirs.push(top);
      lines.push(fstabLine("overlay", top, "overlay", overlayOptions("/", root, workDir("w"), user)));
      for (const l of layers.slice(1)) bind(l.path, l.path, "rbind");
      for (const r of this.ownRoots) bind(path.join(root, r), `/${r}`);
    }
    let i = 0;
    for (const l of whole ? [] : layers) {
      const at = path.join(root, l.path);
      if (l.kind === "link") {
        if (!exists(at) && !fs.lstatSync(at, { throwIfNoEntry: false })) {
          fs.symlinkSync(l.target!, at);
          made.push(at);
        }
        continue;
      }
      if (l.kind === "file") {
        if (placeFile(at)) bind(l.path, l.path, "bind,ro");
        continue;
      }
      // A directory laid out one level down holds the links above: made now, as they are.
      if (!mkdir(at, l.kind === "dir")) continue;
      if (l.kind === "rbind") bind(l.path, l.path, "rbind");
      else if (l.kind === "overlay") lines.push(fstabLine("overlay", at, "overlay", overlayOptions(l.path, at, workDir(String(++i)), user)));
    }
    // Host paths the pod's environment names under /tmp and /mnt (a PYTHONPATH), exactly: not the
    // folders around them, nor one that holds the node itself (a program listing /tmp would find them).
    // Never /tmp itself (TMPDIR=/tmp): the pod's is its own.
    const holdsRoot = (p: string) => `${realRoot}/`.startsWith(`${realpath(p)}/`);
    const named = [...new Set(needed)].filter((p) => this.ownRoots.includes(p.split("/")[1]!) && p.split("/").filter(Boolean).length > 1 && fs.existsSync(p) && !holdsRoot(p));
    for (const p of named.filter((p) => !named.some((q) => q !== p && p.startsWith(`${q}/`))).sort()) if (point(p, fs.statSync(p).isDirectory())) bind(p, p);
    // This engine's files, at the container paths the pod is given (its script, the shims).
    for (const [host, at] of own.binds) if (fs.existsSync(host) && point(at, fs.statSync(host).isDirectory())) bind(host, at);
    // What the pod writes for real: bound over the overlays (or into its /tmp) at its own place.
    for (const d of new Set(own.writable)) if (fs.existsSync(d) && point(d, true)) bind(d, d);
    // Volumes at their mount paths, as a container has them (a path the pod builds reaches them too).
    for (const [prefix, dir] of this.mounts) if (fs.existsSync(dir) && point(prefix, true)) bind(dir, prefix);
    const fstab = path.join(work, "fstab");
    fs.writeFileSync(fstab, `${lines.join("\n")}\n`);
    // Outermost first: a directory's parent is made in an earlier round.
    for (const round of byDepth([...later.dirs, ...later.work])) await Promise.all(round.map((d) => fsp.mkdir(d)));
    await Promise.all(later.files.map((f) => fsp.writeFile(f, "", { flag: "a" })));
    return {
      flags,
      mounts: `mount -a -T ${shq(fstab)}`,
      enter: { chroot: chrootPath()!, root: top, cwd: own.cwd },
      done: async () => {
        await Promise.all(later.files.map(removeIfEmpty));
        // Innermost first; in each work directory, overlayfs's own (mode 0, empty once the pod is gone).
        const dirs = [...later.dirs, ...later.work, ...later.work.map((w) => path.join(w, "work"))];
        for (const round of byDepth(dirs).reverse()) await Promise.all(round.map(removeIfEmpty));
        for (const m of made.reverse()) await removeIfEmpty(m);
        // What is left (a pod killed in the middle of a copy-up leaves files in a work directory) is removed whole.
        removeWorkTree(work);
      },
    };
  }

  /** Make the usual roots exist, as they do in an image. */
  prepare(cwd: string): string {
    for (const d of ["tmp", "mnt"]) fs.mkdirSync(path.join(this.root, d), { recursive: true });
    const dir = this.host(cwd);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
}

/** The bash wrapper that keeps stdout apart (outputs.result) while the log gets stdout and stderr. */
export function withStdoutCapture(argv: string[], stdoutFile: string, isolation?: Isolation | null): string[] {
  // A pipeline is waited for as a whole (a process substitution is not, and could lose the tail).
  const wrap = 'set -o pipefail; o=$1; shift; "$@" | tee "$o"';
  // In a namespace, the wrapper itself makes the mounts first: no extra process, and tee writes
  // through the same view (its file is under a directory bound back in).
  if (isolation?.enter) {
    // The wrapper makes the root, then enters it: the pod starts in its working directory there. tee
    // stays outside, where the node's directory is: the pod has nothing of this engine's but what it is given.
    const { chroot, root, cwd } = isolation.enter;
    // Not exec: the shell says "command not found" for a program this machine lacks, as the image's shell would.
    const inner = 'cd -- "$1" || exit 125; shift; "$@"';
    const outer = `${isolation.mounts} || { echo "dflow-ts: cannot give the pod a root of its own (mount namespace)" >&2; exit 125; }; set -o pipefail; o=$1; shift; ${shq(chroot)} ${shq(root)} /bin/bash -c ${shq(inner)} argo-pod "$@" | tee "$o"`;
    return ["unshare", ...isolation.flags, "--", "bash", "-c", outer, "argo-pod", stdoutFile, cwd, ...argv];
  }
  if (isolation) return ["unshare", ...isolation.flags, "--", "bash", "-c", `${isolation.mounts} || { echo "dflow-ts: cannot give the pod its own /tmp and /mnt (mount namespace)" >&2; exit 125; }; ${wrap}`, "argo-pod", stdoutFile, ...argv];
  return ["bash", "-c", wrap, "argo-pod", stdoutFile, ...argv];
}

/** Container roots that a pod's own mount namespace takes from the node (scratch roots every host has). */
export const PRIVATE_ROOTS = ["tmp", "mnt"];

/** Where a pod with a root of its own finds the shims, and its script (Argo's emissary stages it at /argo/staging/script). */
export const POD_BIN = "/argo/bin";
export const POD_STAGING = "/argo/staging";
/** The ARGO_PROGRESS_FILE a pod writes (Argo's is /var/run/argo/progress, a link away from its root on many machines). */
export const POD_PROGRESS = "/argo/progress";

/** What a root of its own is made with besides this machine's directories. */
export interface OwnRoot {
  /** Host directories the pod writes for real, bound at their own path (DFLOW_ARGO_HOST_DIRS). */
  writable: string[];
  /** The container's working directory. */
  cwd: string;
  /** This engine's files and directories, bound at the container paths the pod is given: [host, container]. */
  binds: Array<[string, string]>;
}

/** The kernel's file systems, this machine's in a pod's own root too. */
const KERNEL_ROOTS = ["proc", "sys", "dev"];

let namespaceFlags: string[] | null | undefined;
/** Why the last probe found no mount namespace (for the error of an output written elsewhere). */
let namespaceWhy = "";

/**
 * unshare's options for a mount namespace of a pod's own, or null where this
 * machine gives none (not Linux, no unshare, user namespaces disabled, or
 * DFLOW_ARGO_PRIVATE_TMP=0). Probed once per engine process with a real bind.
 * A user other than root needs a user namespace, in which the pod runs as
 * root: what most images do, and its files on disk are still the user's.
 */
export function mountNamespace(): string[] | null {
  if (namespaceFlags !== undefined) return namespaceFlags;
  namespaceFlags = null;
  if (process.platform !== "linux") namespaceWhy = "not Linux";
  else if (process.env.DFLOW_ARGO_PRIVATE_TMP === "0") namespaceWhy = "DFLOW_ARGO_PRIVATE_TMP=0";
  else {
    const flags = [...(process.getuid?.() === 0 ? [] : ["--user", "--map-root-user"]), "--mount", "--propagation", "private"];
    const dir = os.tmpdir();
    const r = spawnSync("unshare", [...flags, "--", "mount", "--bind", dir, dir], { encoding: "utf8", timeout: 20_000 });
    if (r.status === 0) namespaceFlags = flags;
    else namespaceWhy = `unshare ${flags.join(" ")} failed: ${(r.error?.message ?? r.stderr ?? "").trim().split("\n")[0]}`;
  }
  return namespaceFlags;
}

/**
 * Why pods whose node directories are on the file system of `scratch` get
 * no root of their own here ("" when they do): said once when a run starts,
 * since what they then write outside /tmp and /mnt reaches this machine.
 */
export function noOwnRootReason(scratch: string): string {
  const flags = mountNamespace();
  if (!flags) return `no mount namespace: ${namespaceWhy}`;
  return rootLayers(flags, scratch, PRIVATE_ROOTS).why;
}

/** Why pods get no mount namespace here ("" when they do). */
export function noNamespaceReason(): string {
  mountNamespace();
  return namespaceFlags ? "" : namespaceWhy;
}

/** A pod's mount namespace: unshare's flags, the shell commands that make its mounts, and the cleanup after it. */
export interface Isolation {
  flags: string[];
  mounts: string;
  /** A root of its own to enter (rootfs.ts), and the working directory there. */
  enter?: { chroot: string; root: string; cwd: string };
  /** Removes the mount points made in the node's directory (empty once the namespace is gone). */
  done(): Promise<void>;
}

/** Removes a mount point made for a pod: a directory or a file left empty, or a link; what the pod wrote there stays. */
async function removeIfEmpty(p: string): Promise<void> {
  try {
    const st = await fsp.lstat(p);
    if (st.isDirectory()) await fsp.rmdir(p);
    else if (st.isSymbolicLink() || st.size === 0) await fsp.unlink(p);
  } catch {
    // written to, or gone
  }
}

/** Paths grouped by depth, shallowest first. */
function byDepth(paths: string[]): string[][] {
  const rounds = new Map<number, string[]>();
  for (const p of paths) {
    const n = p.split("/").length;
    if (!rounds.has(n)) rounds.set(n, []);
    rounds.get(n)!.push(p);
  }
  return [...rounds.keys()].sort((a, b) => a - b).map((n) => rounds.get(n)!);
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}


const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
