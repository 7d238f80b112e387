// User-shaped runs: each measurement is a whole `dflow run <script>.ts`
// process started in a user's project folder that depends on this checkout,
// as `npm install <checkout>` leaves it (node_modules/dflow-ts a symlink to
// the checkout, node_modules/.bin/dflow a symlink to its CLI). The scripts in
// bench/user/project/ are written the way users write them. wall_s covers
// everything the user waits for (start-up included); submit_s is the part
// inside wf.submit(), reported by the script itself.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { RESULT_MARKER, round } from "./protocol.js";

export interface UserShape {
  shape: string;
  /** The script in bench/user/project/ (none: `dflow --help`). */
  script?: string;
  env?: Record<string, string>;
  /** Steps per_step_ms divides by. */
  steps(n: number): number;
}

export const USER_SHAPES: Record<string, UserShape> = {
  "startup-help": { shape: "startup-help", steps: () => 0 },
  "startup-one-step": { shape: "startup-one-step", script: "one-step.ts", steps: () => 1 },
  "user-chain-shell": { shape: "user-chain-shell", script: "chain.ts", steps: (n) => n },
  "user-recursion": { shape: "user-recursion", script: "recursion.ts", steps: (n) => n },
  "user-fanout-shell": { shape: "user-fanout-shell", script: "fanout.ts", steps: (n) => n },
  "user-dag-lattice": { shape: "user-dag-lattice", script: "lattice.ts", steps: (n) => n },
  "user-ts-op-fanout": { shape: "user-ts-op-fanout", script: "ts-fanout.ts", steps: (n) => n },
  "user-ts-op-fanout-warm": { shape: "user-ts-op-fanout-warm", script: "ts-fanout.ts", env: { BENCH_WARM: "1" }, steps: (n) => n },
  // user-fanout-shell as an Argo manifest, run by the local Argo interpreter (issue 12).
  "user-argo-fanout": { shape: "user-argo-fanout", script: "fanout.yaml", steps: (n) => n },
};

/** An Argo manifest: run with `-p n=N`, no result line of its own (the exit status says whether it Succeeded). */
const isManifest = (script: string | undefined): boolean => script !== undefined && /\.ya?ml$/.test(script);

/** A user's project under `parent`: package.json, the workflow scripts, dflow-ts installed as a link to `root`. */
export function makeUserProject(root: string, parent: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(parent, "user-project-")));
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name: "bench-user", private: true, type: "module", dependencies: { "dflow-ts": `file:${root}` } }, null, 2)}\n`);
  const src = path.join(root, "bench", "user", "project");
  for (const f of fs.readdirSync(src)) if (/\.(ts|yaml)$/.test(f)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  fs.symlinkSync(root, path.join(dir, "node_modules", "dflow-ts"));
  fs.symlinkSync(path.join("..", "dflow-ts", "dist", "src", "cli.js"), path.join(dir, "node_modules", ".bin", "dflow"));
  // npm makes a package's bin executable when it installs it; tsc does not.
  fs.chmodSync(path.join(root, "dist", "src", "cli.js"), 0o755);
  return dir;
}

type Row = Record<string, unknown> & { shape: string; n: number; status: string };

/** One `dflow` process in the project; its workflow directories are deleted afterwards. */
export function runUser(project: string, s: UserShape, n: number, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Row> {
  const bin = path.join(project, "node_modules", ".bin", "dflow");
  const args = s.script ? ["run", s.script, ...(isManifest(s.script) ? ["-p", `n=${n}`] : [])] : ["--help"];
  const before = new Set(fs.readdirSync(project));
  return new Promise<Row>((resolve) => {
    const t0 = performance.now();
    const child = spawn(bin, args, { cwd: project, env: { ...env, ...s.env, BENCH_N: String(n) }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out = (out + d).slice(-(1 << 16))));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-2000)));
    let timedOut = false;
    const timer = setTimeout(() => ((timedOut = true), child.kill("SIGTERM")), timeoutMs);
    let finished = false;
    const finish = (code: number | null, spawnError?: Error) => {
      if (finished) return; // 'error' may be followed by 'close'
      finished = true;
      const wallMs = performance.now() - t0;
      clearTimeout(timer);
      for (const f of fs.readdirSync(project)) if (!before.has(f)) fs.rmSync(path.join(project, f), { recursive: true, force: true });
      if (spawnError) return resolve({ shape: s.shape, n, status: "error", error: spawnError.message });
      if (!s.script) {
        return resolve(code === 0 && out.includes("Usage") ? { shape: s.shape, n, status: "ok", wall_s: round(wallMs / 1000, 3), per_step_ms: null, engine_peak_rss_mb: null } : { shape: s.shape, n, status: "error", error: `dflow --help exited ${code}: ${err}` });
      }
      if (isManifest(s.script)) {
        const ok = code === 0 && /Succeeded/.test(out + err);
        if (!ok) return resolve({ shape: s.shape, n, status: "error", error: `dflow run ${s.script} exited ${code}${timedOut ? " (stopped at the bench's limit)" : ""}; stderr: ${err.trim().slice(-600) || "(empty)"}` });
        // No script inside to time submit() or read the engine's RSS: the whole process is the figure.
        return resolve({ shape: s.shape, n, status: "ok", wall_s: round(wallMs / 1000, 3), per_step_ms: round(wallMs / s.steps(n), 2), engine_peak_rss_mb: null });
      }
      const line = out.split("\n").reverse().find((l) => l.startsWith(RESULT_MARKER));
      const r = line ? (JSON.parse(line.slice(RESULT_MARKER.length)) as { status: string; error: string | null; submit_s: number; engine_rss_mb: number }) : null;
      if (!r || r.status !== "ok" || code !== 0) {
        return resolve({ shape: s.shape, n, status: "error", error: r?.error ?? `dflow run exited ${code}${timedOut ? ` (stopped at the bench's limit of ${Math.round(timeoutMs / 60000)} min)` : ""} without a result; stderr: ${err.trim().slice(-600) || "(empty)"}` });
      }
      const steps = s.steps(n);
      resolve({
        shape: s.shape,
        n,
        status: "ok",
        wall_s: round(wallMs / 1000, 3),
        submit_s: round(r.submit_s, 3),
        startup_s: round(wallMs / 1000 - r.submit_s, 3),
        per_step_ms: steps ? round(wallMs / steps, 2) : null,
        submit_per_step_ms: steps ? round((r.submit_s * 1000) / steps, 2) : null,
        engine_peak_rss_mb: round(r.engine_rss_mb, 1),
      });
    };
    child.once("error", (e) => finish(null, e));
    child.once("close", (code) => finish(code));
  });
}
