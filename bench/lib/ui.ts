// What the ui-* shapes share: a `dflow ui` server started as a user starts
// it (a separate process over a work directory), its peak RSS, and headless
// Chromium to open its pages.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = [path.join(root, "dist", "src", "cli.js"), path.join(root, "src", "cli.js")].find((f) => fs.existsSync(f))!;

export interface UiProcess {
  /** The URL `dflow ui` printed (with its token). */
  url: string;
  token: string;
  /** The server's peak RSS so far (VmHWM), MB. */
  rssMb(): number;
  stop(): void;
}

export async function startUi(dir: string): Promise<UiProcess> {
  const server = spawn(process.execPath, [cli, "ui", "--port", "0"], { cwd: dir, env: { ...process.env, DFLOW_DEBUG_WORKDIR: dir }, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /Open (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.once("exit", (c) => reject(new Error(`dflow ui exited with ${c}: ${out}`)));
  });
  return {
    url,
    token: new URL(url).searchParams.get("token")!,
    rssMb: () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${server.pid}/status`, "utf8"))![1]) / 1024,
    stop: () => void server.kill("SIGTERM"),
  };
}

export function launchChromium(): Promise<Browser> {
  const exe = process.env.DFLOW_TEST_CHROMIUM ?? "/usr/bin/chromium";
  return chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"] });
}
