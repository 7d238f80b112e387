// dflow's global configuration, same option names, environment variables and
// defaults as dflow (spec §1), so users can switch engines without edits.
import { z } from "./vendor/zod.js";
import { boolField, field, optionProblems, optionError, spec, stringField } from "./options.js";

/** dflow's "boolize": "", "false", "0" (any case) are false, other strings true. */
export function boolize(v: unknown): boolean {
  if (typeof v !== "string") return Boolean(v);
  return !["", "false", "0"].includes(v.toLowerCase());
}

function intOrNull(v: string | undefined): number | null {
  if (v === undefined || v === "") return null;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? null : n;
}

export type CopyMethod = "symlink" | "link" | "copy";

export interface Config {
  mode: string;
  debug_workdir: string;
  debug_artifact_dir: string;
  debug_copy_method: string;
  debug_save_copy_method: string;
  debug_pool_workers: number | null;
  debug_batch_size: number | null;
  debug_batch_interval: number;
  debug_failfast: boolean;
  detach: boolean;
  detect_empty_dir: boolean;
  dereference_symlink: boolean;
  catalog_dir_name: string;
  archive_mode: string | null;
  /** dflow-ts: run every TS OP in a pool of this many warm workers (0: a fresh process per step). */
  warm_workers: number;
  [key: string]: unknown;
}

function fromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    mode: env.DFLOW_MODE ?? "debug",
    debug_workdir: env.DFLOW_DEBUG_WORKDIR ?? ".",
    debug_artifact_dir: env.DFLOW_DEBUG_ARTIFACT_DIR ?? ".",
    debug_copy_method: env.DFLOW_DEBUG_COPY_METHOD ?? "symlink",
    debug_save_copy_method: env.DFLOW_DEBUG_SAVE_COPY_METHOD ?? "symlink",
    debug_pool_workers: intOrNull(env.DFLOW_DEBUG_POOL_WORKERS),
    debug_batch_size: intOrNull(env.DFLOW_DEBUG_BATCH_SIZE),
    debug_batch_interval: intOrNull(env.DFLOW_DEBUG_BATCH_INTERVAL) ?? 30,
    debug_failfast: boolize(env.DFLOW_DEBUG_FAILFAST ?? ""),
    detach: boolize(env.DFLOW_DETACH ?? ""),
    detect_empty_dir: boolize(env.DFLOW_DETECT_EMPTY_DIR ?? "true"),
    dereference_symlink: boolize(env.DFLOW_DEREFERENCE_SYMLINK ?? ""),
    catalog_dir_name: env.DFLOW_CATALOG_DIR_NAME ?? ".dflow",
    archive_mode: env.DFLOW_ARCHIVE_MODE ?? "tar",
    warm_workers: intOrNull(env.DFLOW_WARM_WORKERS) ?? 0,
  };
}

/**
 * The live configuration. dflow-ts only has the local ("debug") engine, so
 * `mode` defaults to "debug"; it is kept for scripts that set it.
 */
export const config: Config = fromEnv();

const copyMethod = field(z.enum(["symlink", "link", "copy"]), "one of symlink, link, copy");
const sizeOrNull = field(z.number().int().min(1).nullable(), "a whole number ≥ 1, or null");
const configFields = {
  mode: stringField,
  debug_workdir: field(z.string(), "a directory path"),
  debug_artifact_dir: field(z.string(), "a directory path"),
  debug_copy_method: copyMethod,
  debug_save_copy_method: copyMethod,
  debug_pool_workers: field(z.union([z.number().int().min(1), z.literal(-1)]).nullable(), "a whole number ≥ 1, -1 (all at once), or null (the number of CPUs)"),
  debug_batch_size: sizeOrNull,
  debug_batch_interval: field(z.number().min(0).finite(), "a number of seconds ≥ 0"),
  debug_failfast: boolField,
  detach: boolField,
  detect_empty_dir: boolField,
  dereference_symlink: boolField,
  catalog_dir_name: field(z.string().min(1), "a non-empty directory name"),
  archive_mode: field(z.string().nullable(), 'a string ("tar") or null'),
  warm_workers: field(z.number().int().min(0), "a whole number ≥ 0"),
};
/** dflow's options that configure Argo/Kubernetes: accepted, no effect here. */
const ARGO_CONFIG = ["host", "namespace", "token", "k8s_config_file", "k8s_api_server", "private_key_host_path", "save_path_as_parameter", "util_image", "util_image_pull_policy", "extender_image", "extender_image_pull_policy", "dispatcher_image", "dispatcher_image_pull_policy", "save_keys_in_global_outputs", "lineage", "register_tasks", "http_headers", "workflow_annotations", "overwrite_reused_artifact", "artifact_register", "debug_s3", "raise_for_group", "dispatcher_debug"];

/** The options config takes; keys with a default in `fromEnv` are always known. */
export function configSpec(): ReturnType<typeof spec> {
  return spec(configFields, [...new Set([...ARGO_CONFIG, ...Object.keys(fromEnv({})).filter((k) => !(k in configFields))])]);
}

/** The problems of the live configuration (values assigned to `config` directly are checked here, at submit). */
export function configProblems(): string[] {
  return optionProblems(configSpec(), Object.fromEntries(Object.keys(configFields).filter((k) => k in config).map((k) => [k, config[k]])));
}

/** Set options (dflow's names); every bad value or unknown name is refused, all at once. */
export function set_config(values: Partial<Config>): void {
  const problems = optionProblems(configSpec(), values);
  if (problems.length) throw optionError("set_config", problems);
  Object.assign(config, values);
}

/** Re-read every option from the environment (tests use this). */
export function reset_config(env: NodeJS.ProcessEnv = process.env): void {
  for (const k of Object.keys(config)) delete config[k];
  Object.assign(config, fromEnv(env));
}
