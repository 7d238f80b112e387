// The local HPC for end-to-end tests (test/hpc/start-local-hpc.sh writes hpc.json).
// DFLOW_TEST_HPC names that file: CI sets it, and then a missing or broken
// cluster fails the tests. Without it, the HPC tests skip with one line saying
// why, except in CI (CI set): there they fail, so CI cannot pass without them.
import fs from "node:fs";

export interface HpcInfo {
  host: string;
  port: number;
  user: string;
  homeDir: string;
  privateKeyPath: string;
  rsaPrivateKeyPath: string;
  knownHostsPath: string;
  hostKeyFingerprint: string;
  hostPublicKey: string;
  sshCommand: string;
  cpus: number;
  defaultPartition: string;
  stateDir: string;
  logDir?: string;
}

export const HPC_SKIP_REASON = "DFLOW_TEST_HPC is not set: start the cluster with `sudo bash test/hpc/start-local-hpc.sh .hpc` and set DFLOW_TEST_HPC=$PWD/.hpc/hpc.json to run the HPC tests";

/** Whether this is a CI run (CI set, and not to "false" or "0"). */
export const IN_CI = !!process.env.CI && !/^(?:false|0)$/i.test(process.env.CI);

export const HPC_MISSING_IN_CI =
  "CI is set but DFLOW_TEST_HPC is not: CI must run the HPC tests; start the cluster with `bash test/hpc/start-local-hpc.sh .hpc` and set DFLOW_TEST_HPC=$PWD/.hpc/hpc.json (.ci/run does both)";

/** The cluster's facts, or null when HPC tests should skip. Throws when DFLOW_TEST_HPC is set but unusable, or is missing in CI. */
export function hpcInfo(): HpcInfo | null {
  const file = process.env.DFLOW_TEST_HPC;
  if (!file) {
    if (IN_CI) throw new Error(HPC_MISSING_IN_CI);
    return null;
  }
  if (!fs.existsSync(file)) throw new Error(`DFLOW_TEST_HPC=${file}, but that file does not exist: did test/hpc/start-local-hpc.sh run and succeed?`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as HpcInfo;
}

let announced = false;
/** Print the skip reason once per file. */
export function announceSkip(): void {
  if (!announced) {
    announced = true;
    console.warn(`[hpc tests skipped] ${HPC_SKIP_REASON}`);
  }
}
