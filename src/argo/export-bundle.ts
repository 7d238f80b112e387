// How a TypeScript OP's code reaches its pod on Argo (README "From laptop to
// Kubernetes"). dflow uploads its own Python package as an artifact; a TS OP
// needs its module and what it imports (dflow-ts, zod, …), which a plain
// `node` image does not have. We bundle the modules of all the workflow's
// TS OPs with the OP runner into one minified ES module (esbuild, as
// engine/ts-op-bundle.ts does for local runs) and ship it as a ConfigMap
// named after its content, mounted read-only into each TS-OP pod:
//  - not in the Workflow itself: ~0.5 MB a bundle, repeated in every
//    template, would pass the ~1.5 MB limit of a Kubernetes object within a
//    few OPs (and Argo copies the spec into the workflow's status);
//  - content-addressed and immutable: re-exporting changes nothing that is
//    running, and workflows with the same code share one ConfigMap.
// esbuild's synchronous API takes no plugins, and to_dict() is synchronous
// as dflow's is: the bundle is built by a short-lived node process
// (engine/ts-op-bundle-pod.ts).
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import { gzipSync } from "node:zlib";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DflowConfigError } from "../errors.js";
import type { OPBundle } from "./export.js";

/** A ConfigMap holds at most 1 MiB. */
const CONFIGMAP_LIMIT = 1024 * 1024;

/** The OP runner (compiled next to us in dist/, or the source under vitest): esbuild bundles either. */
function runnerPath(): string {
  return ownModule("engine/op-runner.js");
}

/**
 * The build's module and how node runs it: compiled next to us in dist/, or
 * the source under vitest, through tsx (a dependency, found from here, not
 * from the user's folder).
 */
function builder(): string[] {
  const js = fileURLToPath(new URL("../../engine/ts-op-bundle-pod.js", import.meta.url));
  if (fs.existsSync(js)) return [js];
  return ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href, js.replace(/\.js$/, ".ts")];
}

/**
 * Bundle `modules` (absolute paths of OP modules) with the OP runner: the
 * bundle's `run(spec)` runs the OP `spec.op` of the module `spec.module`,
 * which is the module's key (its path relative to `cwd`, never absolute).
 */
export function bundleOPs(modules: string[], cwd = process.cwd()): OPBundle {
  const keys: Record<string, string> = {};
  // Named as the user knows them: relative to the working directory, with ../ when outside it.
  // Never absolute: the key is a literal in the pod's script, and a local Argo run re-roots the
  // absolute paths of a script under the node's sandbox (engine/argo/sandbox.ts), which would
  // turn it into a key the bundle does not have.
  for (const m of modules) keys[m] = path.relative(cwd, m).split(path.sep).join("/") || path.basename(m);
  const entry = [
    `import { setBundledModule, main } from ${JSON.stringify(runnerPath())};`,
    ...modules.map((m, i) => `import * as m${i} from ${JSON.stringify(m)};`),
    `const modules = { ${modules.map((m, i) => `${JSON.stringify(keys[m])}: m${i}`).join(", ")} };`,
    // A sliced output parameter reaches its consumers as Argo gathers a loop's outputs: one
    // [{dflow_list_item, order}] list per item. The values in slice order, as `dflow run` passes
    // them (its engine merges them; dflow's OPs do it themselves, convert_dflow_list).
    "const isMark = (x) => x !== null && typeof x === 'object' && !Array.isArray(x) && 'dflow_list_item' in x && 'order' in x;",
    "function merged(text) {",
    "  let v;",
    "  try { v = JSON.parse(text); } catch { return text; }",
    "  if (!Array.isArray(v) || !v.length || !v.every((x) => Array.isArray(x) && x.every(isMark))) return text;",
    "  return JSON.stringify(v.flat().sort((a, b) => a.order - b.order).map((m) => m.dflow_list_item));",
    "}",
    // Slices shuffled over items known only when the workflow runs: the item's group, as Slices.groups makes them.
    `import { groupItems } from ${JSON.stringify(ownModule("src/slices.js"))};`,
    "export const shuffledGroup = (items, k, size, seed) => groupItems(items, size, seed)[k] ?? [];",
    "export function run(spec) {",
    "  for (const [n, t] of Object.entries(spec.parameters)) spec.parameters[n] = merged(t);",
    "  setBundledModule({ path: spec.module, ns: modules[spec.module] });",
    "  return main({ ...spec, from_argo: true });",
    "}",
  ].join("\n");
  const code = buildBundle(entry, cwd, "ops", `the TypeScript OPs of the workflow (${modules.map((m) => keys[m]).join(", ")})`);
  const bytes = Buffer.byteLength(code);
  if (bytes > CONFIGMAP_LIMIT - 4096) {
    throw new DflowConfigError(
      `the TypeScript OPs of the workflow bundle to ${(bytes / 1048576).toFixed(2)} MB, more than a ConfigMap holds (1 MiB); import less in the OP modules (the bundle holds every module they import), or split the workflow`,
    );
  }
  return { ...configMapOf("dflow-ts-ops", "ops.mjs", code, { "dflow-ts/modules": Object.values(keys).join(",") }), keys };
}

/** esbuild's bundle of `entry`, built by engine/ts-op-bundle-pod.ts. */
function buildBundle(entry: string, cwd: string, kind: "ops" | "dispatch", what: string): string {
  const job = JSON.stringify({ entry, cwd, kind });
  const r = spawnSync(process.execPath, [...builder(), job], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: "" } });
  if (r.status !== 0) {
    // esbuild's message names the file, line and what is wrong: the OP module's mistake.
    const why = (r.stderr || r.error?.message || "").trim().split("\n").filter((l) => !/^\s+at /.test(l)).slice(0, 12).join("\n");
    throw new DflowConfigError(`cannot bundle ${what} for Argo:\n${why}`);
  }
  return r.stdout;
}

/** An immutable ConfigMap holding `code` as `file` (and more files), named after its content. */
function configMapOf(prefix: string, file: string, code: string, annotations: Record<string, string>, binaryData?: Record<string, string>): Omit<OPBundle, "keys"> {
  const name = `${prefix}-${crypto.createHash("sha256").update(code).update(JSON.stringify(binaryData ?? {})).digest("hex").slice(0, 16)}`;
  return {
    configMap: name,
    file,
    manifest: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, labels: { "app.kubernetes.io/managed-by": "dflow-ts" }, annotations },
      immutable: true,
      data: { [file]: code },
      ...(binaryData ? { binaryData } : {}),
    },
  };
}

/** dflow-ts's own compiled module `rel` (under dist/), or its source under vitest. */
function ownModule(rel: string): string {
  const js = fileURLToPath(new URL(`../../${rel}`, import.meta.url));
  return fs.existsSync(js) ? js : js.replace(/\.js$/, ".ts");
}

/**
 * The program of an exported DispatcherExecutor pod (engine/executors/dispatch-pod.ts): this engine's
 * DPDispatcher with the SSH client and zod it needs, in a ConfigMap of its own, the same for every
 * workflow of one dflow-ts version. About 1 MB, as much as a ConfigMap holds: gzipped (a third of
 * that, base64 included), beside a loader that unpacks it in memory.
 */
export function bundleDispatcher(): Omit<OPBundle, "keys"> {
  // Built once per process: it depends on nothing but dflow-ts (an esbuild run of half a second).
  return (dispatcherBundle ??= buildDispatcher());
}

let dispatcherBundle: Omit<OPBundle, "keys"> | undefined;

function buildDispatcher(): Omit<OPBundle, "keys"> {
  const entry = [
    'import ssh2 from "ssh2";',
    `import { useSsh2 } from ${JSON.stringify(ownModule("engine/dispatcher/context/ssh.js"))};`,
    "useSsh2(ssh2);",
    `export { dispatch } from ${JSON.stringify(ownModule("engine/executors/dispatch-pod.js"))};`,
    // Slices shuffled over items known only when the workflow runs: the item's group, as the OP bundle's shuffledGroup.
    `import { groupItems } from ${JSON.stringify(ownModule("src/slices.js"))};`,
    "export const shuffledGroup = (items, k, size, seed) => groupItems(items, size, seed)[k] ?? [];",
  ].join("\n");
  const code = buildBundle(entry, path.dirname(ownModule("engine/executors/dispatch-pod.js")), "dispatch", "dflow-ts's dispatcher");
  const loader = [
    "// dflow-ts's dispatcher (engine/executors/dispatch-pod.ts), gzipped beside this file: a ConfigMap holds 1 MiB.",
    'import fs from "node:fs";',
    'import { gunzipSync } from "node:zlib";',
    'const code = gunzipSync(fs.readFileSync(new URL("./dispatch.mjs.gz", import.meta.url)));',
    'export const { dispatch, shuffledGroup } = await import(`data:text/javascript;base64,${code.toString("base64")}`);',
    "",
  ].join("\n");
  return configMapOf("dflow-ts-dispatch", "dispatch.mjs", loader, {}, { "dispatch.mjs.gz": gzipSync(code, { level: 9 }).toString("base64") });
}
