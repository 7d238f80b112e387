/** Python path/quoting helpers used by DPDispatcher's script generation (spec §4.7.1). */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Python `shlex.quote`. */
export function shellQuote(s: string | null | undefined): string {
  if (!s) return "''";
  if (SAFE.test(s)) return s;
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
}

/** Python `PurePosixPath(p).as_posix()`. */
export function purePosix(p: string): string {
  const lead = p.startsWith("//") && !p.startsWith("///") ? "//" : p.startsWith("/") ? "/" : "";
  const parts = p.split("/").filter((x) => x !== "" && x !== ".");
  const r = lead + parts.join("/");
  return r === "" ? "." : r;
}

/** Python `os.path.normpath` (posix). */
export function pyNormpath(p: string): string {
  if (p === "") return ".";
  const initial = p.startsWith("/") ? (p.startsWith("//") && !p.startsWith("///") ? 2 : 1) : 0;
  const out: string[] = [];
  for (const comp of p.split("/")) {
    if (comp === "" || comp === ".") continue;
    if (comp !== ".." || (initial === 0 && out.length === 0) || (out.length > 0 && out[out.length - 1] === "..")) {
      out.push(comp);
    } else if (out.length > 0) {
      out.pop();
    }
  }
  const r = "/".repeat(initial) + out.join("/");
  return r || ".";
}

/** Python `os.path.join` (posix) of two components. */
export function pyJoin(a: string, b: string): string {
  if (b.startsWith("/")) return b;
  if (a === "" || a.endsWith("/")) return a + b;
  return a + "/" + b;
}

/** Python `os.path.abspath(p)` given the process cwd. */
export function pyAbspath(p: string, cwd: string): string {
  return pyNormpath(pyJoin(cwd, p));
}
