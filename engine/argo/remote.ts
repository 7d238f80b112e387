// Input artifacts from outside the artifact repository, fetched by this
// process as Argo's executor fetches them before a pod starts: an `http`
// artifact is the body of a GET of its URL (its headers sent), a `git` one a
// clone of its repository (depth, branch, fetch refspecs, revision,
// submodules). They land in the local repository, under a key of the run,
// and are placed (a tarball unpacked) as any input artifact is. Credentials
// from Secrets are refused at check time (check.ts): this machine's own git
// configuration and credential helpers are what a local clone uses.
import { execFile } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { promisify } from "node:util";
import { type Obj, asList } from "./manifest.js";

const run = promisify(execFile);

/** The fields of http and git artifacts a local run honours. */
export const HTTP_FIELDS = ["url", "headers"];
export const GIT_FIELDS = ["repo", "revision", "depth", "fetch", "singleBranch", "branch", "disableSubmodules", "insecureIgnoreHostKey"];

/** GET `http.url` into the file `dest`; an Error naming the artifact and the answer when it is not a 2xx. */
export async function fetchHttpArtifact(http: Obj, dest: string, where: string): Promise<void> {
  const url = String(http.url ?? "");
  const headers = Object.fromEntries(asList(http.headers).map((h) => [String(h.name), String(h.value ?? "")]));
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: "follow" });
  } catch (e) {
    const err = e as Error & { cause?: { message?: string } };
    throw new Error(`${where}: GET ${url}: ${err.cause?.message ?? err.message}`);
  }
  if (!res.ok) throw new Error(`${where}: GET ${url}: ${res.status} ${res.statusText}`);
  await fsp.writeFile(dest, Buffer.from(await res.arrayBuffer()));
}

/** Clone `git.repo` into the directory `dest` as Argo's git driver does; git's own message when it fails. */
export async function cloneGitArtifact(git: Obj, dest: string, where: string): Promise<void> {
  const repo = String(git.repo ?? "");
  const depth = Number(git.depth ?? 0);
  const git_ = async (args: string[], cwd?: string) => {
    try {
      await run("git", args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...(git.insecureIgnoreHostKey === true ? { GIT_SSH_COMMAND: "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" } : {}) } });
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`${where}: git ${args[0]} ${repo}: ${(err.stderr ?? err.message).trim().split("\n").at(-1)}`);
    }
  };
  fs.rmSync(dest, { recursive: true, force: true });
  await git_(["clone", "--quiet", ...(depth > 0 ? ["--depth", String(depth)] : []), ...(git.singleBranch === true ? ["--single-branch"] : []), ...(git.branch ? ["--branch", String(git.branch)] : []), "--", repo, dest]);
  const refspecs = Array.isArray(git.fetch) ? (git.fetch as unknown[]).map(String) : [];
  if (refspecs.length) await git_(["fetch", "--quiet", ...(depth > 0 ? ["--depth", String(depth)] : []), "origin", ...refspecs], dest);
  if (git.revision) await git_(["checkout", "--quiet", String(git.revision)], dest);
  if (git.disableSubmodules !== true && fs.existsSync(`${dest}/.gitmodules`)) await git_(["submodule", "update", "--quiet", "--init", "--recursive", ...(depth > 0 ? ["--depth", String(depth)] : [])], dest);
}
