// Whether a path stays inside a directory: textually (`..` and absolute
// paths), and by its real path (symlinks resolved), for serving files.
import path from "node:path";

/** `child` is strictly below `parent` (both absolute, normalised). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/** `real` (a realpath) is one of `roots` (realpaths) or below one. */
export function realInside(real: string, roots: string[]): boolean {
  return roots.some((r) => real === r || isInside(real, r));
}
