// Every example in examples/ is run through the real `dflow` binary from the
// repository root, exactly as the README says (`node dist/src/cli.js run
// examples/x.ts`), and must succeed — or fail, when its first line says
// `// expect-failure` — leaving nothing behind there but its workflow
// directories (removed afterwards). The examples whose steps include node
// scripts the engine writes (slices helpers, success checks, TS-OP
// launchers) also run in folders whose package.json says "type": "module"
// and "type": "commonjs": a generated script must not depend on it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join("dist", "src", "cli.js");
const examples = fs.readdirSync(path.join(root, "examples")).filter((f) => f.endsWith(".ts")).sort();
const GENERATED_NODE_SCRIPTS = ["simple-example.ts", "slices.ts", "subpath-slices.ts", "success-ratio.ts"];

/** The workflow directories in `dir`. */
const workflowDirs = (dir: string) => fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, "status")));

async function runExample(file: string, cwd: string, script: string) {
  const src = fs.readFileSync(path.join(root, "examples", file), "utf8");
  const expectFailure = src.startsWith("// expect-failure");
  // `// expect-statuses: Failed, Succeeded`: the example runs several workflows on purpose.
  const statusesLine = /^\/\/ expect-statuses: (.*)$/m.exec(src);
  const expectedStatuses = statusesLine ? statusesLine[1].split(",").map((x) => x.trim()).sort() : null;
  const before = new Set(fs.readdirSync(cwd));
  const r = await execa(process.execPath, [path.join(root, cli), "run", script], { cwd, reject: false, all: true });
  const created = fs.readdirSync(cwd).filter((d) => !before.has(d));
  const wfs = workflowDirs(cwd).filter((d) => !before.has(d));
  try {
    expect(wfs.length, r.all).toBeGreaterThanOrEqual(1);
    // Nothing but workflow directories and dflow's upload/ (a killed job's "Terminated" from sh, say, is litter too).
    expect(created.filter((d) => !wfs.includes(d) && d !== "upload"), r.all).toEqual([]);
    expect(r.all).not.toMatch(/^Terminated$/m);
    const statuses = wfs.map((d) => fs.readFileSync(path.join(cwd, d, "status"), "utf8"));
    if (expectedStatuses) {
      expect([...statuses].sort(), r.all).toEqual(expectedStatuses);
      expect(r.exitCode, r.all).toBe(expectedStatuses.every((x) => x === "Succeeded") ? 0 : 1);
    } else if (expectFailure) {
      expect(r.exitCode, r.all).toBe(1);
      expect(statuses).toContain("Failed");
    } else {
      expect(r.exitCode, r.all).toBe(0);
      expect(statuses.every((s) => s === "Succeeded"), r.all).toBe(true);
    }
  } finally {
    for (const d of created) fs.rmSync(path.join(cwd, d), { recursive: true, force: true });
  }
}

describe("examples", () => {
  it("there are examples, and the README's table lists every one", () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    for (const file of examples) expect(readme, file).toContain(`\`examples/${file}\``);
  });

  it("the README links nowhere outside the repository", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    expect(readme).not.toMatch(/\]\(\.\.\//);
    expect(readme).not.toMatch(/`\.\.\/shared\//);
  });

  // Untracked files only: tracked ones may be being edited while the suite runs.
  const untracked = async () => (await execa("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: root })).stdout.split("\n").filter((l) => l.startsWith("??"));
  for (const file of examples) {
    it(`${file}, run from the repository root, ends as it says and leaves nothing untracked`, async () => {
      const before = await untracked();
      await runExample(file, root, `examples/${file}`);
      expect(await untracked()).toEqual(before);
    });
  }

  for (const type of ["module", "commonjs"]) {
    for (const file of GENERATED_NODE_SCRIPTS) {
      it(`${file} in a folder whose package.json says "type": "${type}"`, async () => {
        const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-example-"));
        try {
          fs.writeFileSync(path.join(cwd, "package.json"), JSON.stringify({ name: "x", type }));
          await runExample(file, cwd, path.join(root, "examples", file));
        } finally {
          fs.rmSync(cwd, { recursive: true, force: true });
        }
      });
    }
  }
});
