// A pod's root file system: this machine's, copy-on-write.
//
// In a container a program may write anywhere (/a, /etc/app.conf, `pip
// install` into /usr/lib) and none of it reaches the node or the next pod.
// Run as a plain process it writes this machine's files, as root with
// nothing in the way. So a pod whose engine has a mount namespace (sandbox.ts
// mountNamespace) gets a root of its own, entered by chroot: an overlay of
// this machine's `/` whose upper layer is <node dir>/root (what the pod
// changed stays in the node, visible: root/etc/app.conf); /tmp and /mnt are
// the node's (sandbox.ts), /proc, /sys, /dev and the other mounts this
// machine's, bound again on top. The engine needs no image, no daemon and no
// privilege beyond the user namespace that sandbox.ts already asks for.
//
// In a user namespace (a user other than root) the kernel takes no lower
// layer with mounts below it (they are locked): there each directory of `/`
// is an overlay of its own, mounted at <node dir>/root/<dir>, and a directory
// holding mount points is made as a plain directory whose entries are laid
// out the same way, one level down. What cannot be an overlay here (a file
// system overlayfs does not take as lower layer, an autofs trigger) is bound
// as it is, found once per engine process by trying every overlay in one
// namespace. A pod's root cost 10 ms on the machine this was written on as
// one overlay, 65 ms as 66 (its /var and /run hold mounts).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DflowConfigError } from "../../src/errors.js";

/** How one path of this machine's root appears in a pod's root. */
export interface Layer {
  path: string;
  kind: "overlay" | "rbind" | "link" | "file" | "dir";
  /** A symbolic link's target. */
  target?: string;
}

/** The kernel's own file systems: the pod sees this machine's, as a container sees its node's. */
const KERNEL = new Set(["proc", "sys", "dev"]);

/** Characters that fstab's fields or overlayfs's options cannot carry (`,` and `:` separate options and layers). */
const UNSAFE = /[\s,:\\]/;

/** Mount points of this process's namespace (/proc/self/mountinfo, field 5, octal escapes undone). */
function mountPoints(): string[] {
  try {
    return fs
      .readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ")[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  } catch {
    return [];
  }
}

/**
 * The layout of a pod's root for root, outside a user namespace, where
 * overlayfs takes `/` itself as the lower layer (its mounts are not locked):
 * one overlay of `/`, then the kernel's file systems and every other mount
 * point bound again on top of it (an overlay's lower layer shows none of the
 * mounts below it). Tried first: a handful of mounts per pod instead of one
 * per directory.
 */
function wholePlan(privateRoots: string[]): Layer[] {
  const skip = (m: string) => [...privateRoots, ...KERNEL].includes(m.split("/")[1]!);
  const mounts = [...new Set(mountPoints())].filter((m) => m !== "/" && !skip(m) && !UNSAFE.test(m)).sort();
  // The outermost of each nest: rbind brings the ones inside along.
  const outer = mounts.filter((m) => !mounts.some((o) => o !== m && m.startsWith(`${o}/`)));
  return [{ path: "/", kind: "overlay" }, ...[...KERNEL].map((k): Layer => ({ path: `/${k}`, kind: "rbind" })), ...outer.map((m): Layer => ({ path: m, kind: "rbind" }))];
}

/**
 * The layout of a pod's root from this machine's: each directory of `/` (but
 * the roots the pod has to itself) an overlay, each link a link, the kernel's
 * file systems bound as they are, and a directory holding mount points laid
 * out one level down (its files bound read-only). Files at `/` itself are
 * left out.
 */
function plan(privateRoots: string[]): Layer[] {
  const below = mountPoints().filter((m) => m !== "/");
  const out: Layer[] = [];
  const walk = (dir: string, top: boolean) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      // Unreadable to this user: bound as it is.
      if (out.length) out[out.length - 1]!.kind = "rbind";
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.posix.join(dir, e.name);
      if (top && (privateRoots.includes(e.name) || e.name === "lost+found")) continue;
      if (e.isSymbolicLink()) {
        try {
          out.push({ path: p, kind: "link", target: fs.readlinkSync(p) });
        } catch {
          // gone meanwhile
        }
      } else if (e.isFile()) {
        // A file at / is this machine's (/.dockerenv), not an image's; one beside a mount point is read as it is.
        if (!top && !UNSAFE.test(p)) out.push({ path: p, kind: "file" });
      } else if (e.isDirectory()) {
        if (top && KERNEL.has(e.name)) out.push({ path: p, kind: "rbind" });
        else if (UNSAFE.test(p)) out.push({ path: p, kind: "rbind" });
        else if (below.some((m) => m.startsWith(`${p}/`))) {
          out.push({ path: p, kind: "dir" });
          walk(p, false);
        } else out.push({ path: p, kind: "overlay" });
      }
    }
  };
  walk("/", true);
  return out;
}

/** One mount of a pod's root, as an fstab line (fields escaped as fstab escapes them). */
export function fstabLine(source: string, target: string, type: string, options: string): string {
  const esc = (s: string) => s.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
  return `${esc(source)} ${esc(target)} ${type} ${options} 0 0`;
}

/** overlayfs's options for a lower directory of this machine and the node's upper one. */
export function overlayOptions(lower: string, upper: string, work: string, user: boolean): string {
  return `lowerdir=${lower},upperdir=${upper},workdir=${work}${user ? ",userxattr" : ""}`;
}

/** Whether a path can be one of overlayfs's layers (its options cannot quote `,`, `:` or blanks). */
export const layerSafe = (p: string) => !UNSAFE.test(p);

/** Where chroot is (root's sbin is not on every user's PATH). */
export function chrootPath(): string | null {
  for (const d of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (!d) continue;
    const f = path.join(d, "chroot");
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return null;
}

interface Probed {
  layers: Layer[] | null;
  why: string;
}
const probed = new Map<number, Probed>();

/**
 * The layout of pods' roots whose upper layers live on the file system of
 * `scratch` (a directory of the engine's, where the probe may write), or null
 * with the reason where none can be made: no chroot, or overlayfs takes no
 * upper layer there (NFS, and before Linux 5.11 in a user namespace). As
 * root, one overlay of `/` is tried first (wholePlan); else every directory's
 * overlay is tried once, in one namespace, and those that fail are bound
 * instead.
 */
export function rootLayers(flags: string[], scratch: string, privateRoots: string[]): Probed {
  let dev: number;
  try {
    dev = fs.statSync(scratch).dev;
  } catch (e) {
    return { layers: null, why: (e as Error).message };
  }
  const known = probed.get(dev);
  if (known) return known;
  const result = probe(flags, scratch, privateRoots);
  probed.set(dev, result);
  return result;
}

function probe(flags: string[], scratch: string, privateRoots: string[]): Probed {
  if (process.env.DFLOW_ARGO_CONTAINER_ROOT === "0") return { layers: null, why: "DFLOW_ARGO_CONTAINER_ROOT=0" };
  if (!chrootPath()) return { layers: null, why: "no chroot program on this machine" };
  const dir = fs.mkdtempSync(path.join(scratch, ".rootfs-probe-"));
  try {
    if (!layerSafe(dir)) return { layers: null, why: `the work directory's path ${dir} has a character overlayfs options cannot hold (, : or a blank)` };
    const user = process.getuid?.() !== 0;
    if (!user) {
      // One overlay of the whole root, where the kernel allows it.
      const m = path.join(dir, "whole");
      for (const d of ["u", "w", "m"]) fs.mkdirSync(`${m}-${d}`);
      const r = spawnSync("unshare", [...flags, "--", "mount", "-t", "overlay", "overlay", "-o", overlayOptions("/", `${m}-u`, `${m}-w`, false), `${m}-m`], { encoding: "utf8", timeout: 20_000 });
      if (r.status === 0) return { layers: wholePlan(privateRoots), why: "" };
    }
    const layers = plan(privateRoots);
    const lines: string[] = [];
    const targets = new Map<string, Layer>();
    let i = 0;
    for (const l of layers) {
      if (l.kind !== "overlay") continue;
      i++;
      const up = path.join(dir, `u${i}`);
      const work = path.join(dir, `w${i}`);
      const mp = path.join(dir, `m${i}`);
      for (const d of [up, work, mp]) fs.mkdirSync(d);
      lines.push(fstabLine("overlay", mp, "overlay", overlayOptions(l.path, up, work, user)));
      targets.set(mp, l);
    }
    const fstab = path.join(dir, "fstab");
    fs.writeFileSync(fstab, `${lines.join("\n")}\n`);
    // mount -a goes on past a failure; the mounts the namespace then has tell which worked.
    const r = spawnSync("unshare", [...flags, "--", "bash", "-c", 'mount -a -T "$1" 2>/dev/null; cat /proc/self/mountinfo', "probe", fstab], { encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0) return { layers: null, why: `unshare ${flags.join(" ")} failed: ${(r.error?.message ?? r.stderr ?? "").trim().split("\n")[0]}` };
    const mounted = new Set(r.stdout.split("\n").map((l) => l.split(" ")[4]));
    let any = false;
    for (const [mp, l] of targets) {
      if (mounted.has(mp)) any = true;
      else l.kind = "rbind";
    }
    if (targets.size && !any) return { layers: null, why: `overlayfs takes no upper layer on the file system of ${scratch}` };
    return { layers, why: "" };
  } finally {
    removeWorkTree(dir);
  }
}

/**
 * Removes a directory holding overlayfs work directories. overlayfs leaves
 * the directory it makes in each (`<workdir>/work`) unreadable, mode 0, and
 * a user other than root cannot remove what is in it: those are opened
 * first, then, if that was not enough (what another kernel keeps there),
 * every directory below. Never throws: what is left stays, rather than end
 * the run it served.
 */
export function removeWorkTree(dir: string): void {
  const open = (d: string, deep: boolean) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const sub = path.join(d, e.name);
      try {
        fs.chmodSync(deep ? sub : path.join(sub, "work"), 0o700);
      } catch {
        // none made there
      }
      if (deep) open(sub, true);
    }
  };
  const remove = () => {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      return true;
    } catch {
      return false;
    }
  };
  open(dir, false);
  if (remove()) return;
  open(dir, true);
  remove();
}

const HOST_DIRS = "DFLOW_ARGO_HOST_DIRS";

/**
 * Directories of this machine that every pod writes for real, as if each
 * mounted them as a hostPath volume at their own path (DFLOW_ARGO_HOST_DIRS,
 * separated by `:`): a shared scratch file system, or a folder a test reads
 * after the run. Everything else a pod writes stays in its node.
 */
export function hostDirs(text = process.env[HOST_DIRS]): string[] {
  if (!text?.trim()) return [];
  const dirs = text.split(":").filter(Boolean);
  const bad = dirs.filter((d) => !path.isAbsolute(d) || !isDirectory(d));
  if (bad.length) throw new DflowConfigError(`${HOST_DIRS}=${JSON.stringify(text)}: ${bad.map((d) => JSON.stringify(d)).join(", ")} ${bad.length > 1 ? "are not existing directories" : "is not an existing directory"} given by an absolute path`);
  return dirs.map((d) => path.resolve(d));
}

/** Whether `p` is a directory (following links). */
export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
