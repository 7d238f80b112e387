// dflow's global configuration, same option names, environment variables and
// defaults as dflow (spec §1), so users can switch engines without edits.

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

export function set_config(values: Partial<Config>): void {
  Object.assign(config, values);
}

/** Re-read every option from the environment (tests use this). */
export function reset_config(env: NodeJS.ProcessEnv = process.env): void {
  for (const k of Object.keys(config)) delete config[k];
  Object.assign(config, fromEnv(env));
}
