import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * True when the module is the script node was started with:
 * `if (isMain(import.meta)) await wf.submit()`. Lets a workflow script
 * define OPs too, because an OP's child process imports that module.
 */
export function isMain(meta: { url: string }): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  return path.resolve(entry) === fileURLToPath(meta.url);
}
