// dflow-ts's version, from its package.json (`dflow --version`, the Argo
// Server API's /api/v1/version): the file next to dist/ when installed or
// built, next to src/ under vitest.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let version: string | undefined;

export function packageVersion(): string {
  if (version !== undefined) return version;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "dflow-ts") return (version = pkg.version ?? "0.0.0");
    }
    if (path.dirname(dir) === dir) return (version = "0.0.0");
    dir = path.dirname(dir);
  }
}
