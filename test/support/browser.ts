// A real browser for the UI tests: Debian's Chromium (apt-get install chromium),
// driven by playwright-core (no browser download). Where it is missing the
// browser tests skip with one line saying how to get it, except in CI (CI
// set): there they fail, so CI cannot pass without them (.ci/run installs it).
import fs from "node:fs";
import { IN_CI } from "./hpc.js";

export const CHROMIUM = process.env.DFLOW_TEST_CHROMIUM ?? "/usr/bin/chromium";

export const BROWSER_SKIP_REASON = `no Chromium at ${CHROMIUM}: \`apt-get install chromium\` (or set DFLOW_TEST_CHROMIUM) to run the browser tests`;

/** Chromium's path, or null when the browser tests should skip. Throws in CI when it is missing. */
export function chromiumPath(): string | null {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  if (IN_CI) throw new Error(`CI is set but ${BROWSER_SKIP_REASON}; .ci/run installs it`);
  return null;
}

/** Flags for a root user in a closed network (no sandbox, no background calls home). */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];
