// `dflow run` in a user's project, through the real binary: the README's
// two-file workflow works in a project made by `npm init -y` ("type":
// "commonjs") and in a "type": "module" one, and a mistake in the script
// (syntax error, a DflowConfigError, a workflow another engine holds) is one
// clear error with the right exit status, never a node stack trace.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const base = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-project-"));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const STACK = /^\s+at /m;

/** A fresh project depending on this checkout as `npm install <checkout>` leaves it: a link, and the bin. */
async function project(name: string, type: "commonjs" | "module"): Promise<string> {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  await execa("npm", ["init", "-y"], { cwd: dir });
  if (type === "module") await execa("npm", ["pkg", "set", "type=module"], { cwd: dir });
  fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  fs.symlinkSync(root, path.join(dir, "node_modules", "dflow-ts"));
  fs.symlinkSync("../dflow-ts/dist/src/cli.js", path.join(dir, "node_modules", ".bin", "dflow"));
  return dir;
}

/** `npx dflow <args>`, as the README says, in the project. */
const dflow = (cwd: string, args: string[], env: Record<string, string> = {}) => execa("npx", ["dflow", ...args], { cwd, reject: false, env });

/** The README's "A workflow" code: its first two ```ts blocks, ops.ts and workflow.ts. */
function readmeWorkflow(): { ops: string; workflow: string } {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## A workflow"));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks[0]).toMatch(/^\/\/ ops\.ts/);
  expect(blocks[1]).toMatch(/^\/\/ workflow\.ts/);
  return { ops: blocks[0], workflow: blocks[1] };
}

beforeAll(() => {
  // The binary is executable once npm installs it; dist/ comes from tsc, which does not set the bit.
  fs.chmodSync(path.join(root, "dist", "src", "cli.js"), 0o755);
});

// As from the registry: dflow-ts's files are real files under node_modules/, not a link to a
// checkout. Every TypeScript OP step failed there ("Cannot find module 'zod'") while the linked
// install worked: the OP bundler took all of dflow-ts for a dependency's files.
describe("installed from its packed tarball (npm pack, then npm install the .tgz)", () => {
  it("the README's workflow runs its TypeScript OP with `npx dflow run workflow.ts`", async () => {
    const dir = path.join(base, "packed");
    fs.mkdirSync(dir);
    await execa("npm", ["init", "-y"], { cwd: dir });
    // dist/ is built already (npm test builds first): `prepare` need not run again.
    const pack = await execa("npm", ["pack", "--ignore-scripts", "--pack-destination", dir, root], { cwd: dir });
    const tgz = path.join(dir, pack.stdout.trim().split("\n").at(-1)!);
    await execa("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tgz], { cwd: dir });
    expect(fs.lstatSync(path.join(dir, "node_modules", "dflow-ts")).isSymbolicLink()).toBe(false);
    const { ops, workflow } = readmeWorkflow();
    fs.writeFileSync(path.join(dir, "ops.ts"), ops);
    fs.writeFileSync(path.join(dir, "workflow.ts"), workflow);
    fs.writeFileSync(path.join(dir, "foo.txt"), "foo\n");
    // A cache of its own (a bundle made by another test's install must not stand in for this one's),
    // outside the project as the default one is: from there, a bundle's require("zod") finds nothing.
    const r = await dflow(dir, ["run", "workflow.ts"], { DFLOW_TS_CACHE: path.join(base, "packed-cache") });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^hello-world-\w{5} Succeeded HelloWorld!$/m);
  });
});

describe.each(["commonjs", "module"] as const)('the README\'s "A workflow" in a "type": "%s" project', (type) => {
  it("runs with `npx dflow run workflow.ts`", async () => {
    const dir = await project(`readme-${type}`, type);
    const { ops, workflow } = readmeWorkflow();
    fs.writeFileSync(path.join(dir, "ops.ts"), ops);
    fs.writeFileSync(path.join(dir, "workflow.ts"), workflow);
    fs.writeFileSync(path.join(dir, "foo.txt"), "foo\n");
    const r = await dflow(dir, ["run", "workflow.ts"]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^hello-world-\w{5} Succeeded HelloWorld!$/m);
  });
});

describe("dflow run: a mistake in the workflow script is one clear error", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await project("errors", "commonjs");
  });

  it("a syntax error names file:line:column and shows the line", async () => {
    fs.writeFileSync(path.join(dir, "syntax.ts"), 'import { Workflow } from "dflow-ts";\nconst x = 1;\nconst y = (x + ;\n');
    const r = await dflow(dir, ["run", "syntax.ts"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain(`${path.join(dir, "syntax.ts")}:3:16`);
    expect(r.stderr).toContain("const y = (x + ;");
    expect(r.stderr).toMatch(/^dflow: syntax error: Unexpected ";"/);
  });

  it("a syntax error in a module the script imports, and in a .js script, too", async () => {
    fs.writeFileSync(path.join(dir, "bad-ops.ts"), "export const a = {;\n");
    fs.writeFileSync(path.join(dir, "imports.ts"), 'import { a } from "./bad-ops.js";\nconsole.log(a);\n');
    const r = await dflow(dir, ["run", "imports.ts"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain(`${path.join(dir, "bad-ops.ts")}:1:`);
    fs.writeFileSync(path.join(dir, "syntax.mjs"), "const x = 1;\nconst y = (x + ;\n");
    const j = await dflow(dir, ["run", "syntax.mjs"]);
    expect(j.exitCode).toBe(1);
    expect(j.stderr).not.toMatch(STACK);
    expect(j.stderr).toContain(`${path.join(dir, "syntax.mjs")}:2:`);
    expect(j.stderr).toContain("const y = (x + ;");
  });

  it("a DflowConfigError thrown while the workflow is built is its message on one line; --verbose adds the stack", async () => {
    fs.writeFileSync(path.join(dir, "badname.ts"), 'import { ShellOPTemplate, Step } from "dflow-ts";\nnew Step({ name: "bad_name!", template: new ShellOPTemplate({ name: "t", script: "true" }) });\n');
    const r = await dflow(dir, ["run", "badname.ts"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^dflow: step bad_name!: invalid step\/task name "bad_name!"/)]);
    const v = await dflow(dir, ["run", "--verbose", "badname.ts"]);
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toMatch(STACK);
  });

  it("any other uncaught error: its message and where in the user's file, no stack", async () => {
    fs.writeFileSync(path.join(dir, "throws.ts"), 'const n: number = 1;\nif (n) throw new RangeError("no such thing");\n');
    const r = await dflow(dir, ["run", "throws.ts"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain(`dflow: the workflow script failed: RangeError: no such thing (at ${path.join(dir, "throws.ts")}:2:`);
  });

  it("a second engine on a running workflow is refused in one line", async () => {
    fs.writeFileSync(
      path.join(dir, "slow.ts"),
      'import { ShellOPTemplate, Step, Workflow } from "dflow-ts";\nconst wf = new Workflow({ name: "slow" });\nwf.add(new Step({ name: "slow", template: new ShellOPTemplate({ name: "slow", script: "sleep 600" }) }));\nawait wf.submit();\n',
    );
    const started = await dflow(dir, ["run", "--detach", "slow.ts"]);
    expect(started.exitCode, started.stderr).toBe(0);
    const id = /Workflow (slow-\w{5}) is running/.exec(started.stdout)![1];
    // The hint it prints works as printed.
    expect(started.stdout).toContain(`Follow it with: npx dflow watch ${id}`);
    try {
      const r = await dflow(dir, ["run", "slow.ts"], { DFLOW_RESUME_ID: id });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^dflow: workflow ${id}: workflow ${id} is already being run by engine pid \\d+ .*\`npx dflow stop ${id}\`$`))]);
    } finally {
      const s = await dflow(dir, ["stop", id]);
      expect(s.exitCode, s.stderr).toBe(0);
    }
  });
});

describe("hints name the dflow command as it was run", () => {
  it("from a checkout: node dist/src/cli.js; from an install: npx dflow", async () => {
    const here = await execa(process.execPath, ["dist/src/cli.js", "get", "nope-xxxxx"], { cwd: root, reject: false });
    expect(here.exitCode).toBe(2);
    expect(here.stderr).toContain("`node dist/src/cli.js list` shows the workflows there");
    const dir = await project("hints", "commonjs");
    const installed = await dflow(dir, ["get", "nope-xxxxx"]);
    expect(installed.exitCode).toBe(2);
    expect(installed.stderr).toContain("`npx dflow list` shows the workflows there");
  });
});

// `dflow run x.ts` compiles the script and its local TypeScript into one ES
// module (src/cli/script-bundle.ts) kept in a cache: what node would have
// done with the files themselves must still hold.
describe("dflow run: a TypeScript script compiled to one module", () => {
  let dir: string;
  let cache: string;
  const run = (args: string[], env: Record<string, string> = {}) => dflow(dir, ["run", ...args], { DFLOW_TS_CACHE: cache, ...env });
  beforeAll(async () => {
    dir = await project("bundled", "commonjs");
    cache = path.join(base, "cache");
  });

  it("an error thrown in a local .ts module names that file and line, also in the --verbose stack", async () => {
    fs.writeFileSync(path.join(dir, "lib.ts"), 'export function check(n: number): number {\n  const limit: number = 2;\n  if (n > limit) throw new RangeError(`too big: ${n}`);\n  return n;\n}\n');
    fs.writeFileSync(path.join(dir, "uses-lib.ts"), 'import { check } from "./lib.js";\ncheck(1);\ncheck(3);\n');
    const r = await run(["uses-lib.ts"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain(`dflow: the workflow script failed: RangeError: too big: 3 (at ${path.join(dir, "lib.ts")}:3:`);
    const v = await run(["--verbose", "uses-lib.ts"]);
    expect(v.stderr).toMatch(new RegExp(`at check \\((file://)?${path.join(dir, "lib.ts")}:3:\\d+\\)`));
    expect(v.stderr).toMatch(new RegExp(`\\((file://)?${path.join(dir, "uses-lib.ts")}:3:\\d+\\)`));
  });

  it("sees node's argv and the files' own import.meta; imports .ts files written as .ts, and a CommonJS helper that requires a package", async () => {
    fs.writeFileSync(path.join(dir, "helper.cjs"), 'const { isMain } = require("dflow-ts");\nconst path = require("path");\nmodule.exports = { base: (p) => path.basename(p), isMain };\n');
    fs.writeFileSync(path.join(dir, "where.ts"), "export const here = import.meta.url;\n");
    fs.writeFileSync(
      path.join(dir, "argv.ts"),
      [
        'import { createRequire } from "node:module";',
        'import { isMain } from "dflow-ts";',
        'import helper from "./helper.cjs";',
        'import { here } from "./where.ts";',
        "const require = createRequire(import.meta.url);",
        'console.log(JSON.stringify({ argv: process.argv.slice(1), main: isMain(import.meta), here, self: import.meta.filename, base: helper.base(here), join: typeof require("path").join }));',
      ].join("\n"),
    );
    const r = await run(["argv.ts", "a", "b"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      argv: [path.join(dir, "argv.ts"), "a", "b"],
      main: true,
      here: `file://${path.join(dir, "where.ts")}`,
      self: path.join(dir, "argv.ts"),
      base: "where.ts",
      join: "function",
    });
  });

  it("imports dflow-ts by a path into its dist/ as the one instance the CLI runs (a copy bundled in broke on its own import.meta text)", async () => {
    const dist = path.join(root, "dist", "src", "index.js");
    fs.writeFileSync(
      path.join(dir, "by-path.ts"),
      `import { OP, Step, TsOPTemplate, Workflow, isMain, z } from ${JSON.stringify(dist)};
export const Hello = OP.function({ name: "Hello", inputs: { who: z.string() }, outputs: { msg: z.string() } }, ({ who }) => ({ msg: \`hello \${who}\` }));
if (isMain(import.meta)) {
  const wf = new Workflow({ name: "by-path" });
  wf.add(new Step({ name: "hello", template: new TsOPTemplate(Hello), parameters: { who: "path" } }));
  await wf.submit();
  console.log(wf.query_step({ name: "hello" })[0]?.outputs.parameters.msg?.value);
}
`,
    );
    const r = await run(["by-path.ts"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("hello path");
  });

  it("runs in the CLI's process: the script's own exit status wins, else 1 when a workflow failed, with one line per workflow", async () => {
    const failing = 'import { ShellOPTemplate, Step, Workflow } from "dflow-ts";\nconst wf = new Workflow({ name: "fails" });\nwf.add(new Step({ name: "x", template: new ShellOPTemplate({ name: "x", script: "exit 3" }) }));\nconst r = await wf.submit();\n';
    fs.writeFileSync(path.join(dir, "fails.ts"), failing);
    fs.writeFileSync(path.join(dir, "fails-exits.ts"), `${failing}process.exit(5);\n`);
    fs.writeFileSync(path.join(dir, "sets-code.ts"), "process.exitCode = 7;\n");
    const f = await run(["fails.ts"]);
    expect(f.exitCode).toBe(1);
    expect(f.stderr).toMatch(/^dflow: workflow fails-\w{5} Failed$/m);
    const e = await run(["fails-exits.ts"]);
    expect(e.exitCode).toBe(5);
    expect(e.stderr).toMatch(/^dflow: workflow fails-\w{5} Failed$/m);
    expect((await run(["sets-code.ts"])).exitCode).toBe(7);
  });

  it("an import of a file that is not there names the import's place", async () => {
    fs.writeFileSync(path.join(dir, "missing.ts"), 'const x: number = 1;\nimport { nothing } from "./not-there.js";\nconsole.log(x, nothing);\n');
    const r = await run(["missing.ts"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toMatch(/^dflow: cannot import: Could not resolve "\.\/not-there\.js"/);
    expect(r.stderr).toContain(`${path.join(dir, "missing.ts")}:2:`);
  });

  it("an edit to an imported file is seen by the next run; the cache stays bounded", async () => {
    fs.writeFileSync(path.join(dir, "value.ts"), "export const value: number = 1;\n");
    fs.writeFileSync(path.join(dir, "prints.ts"), 'import { value } from "./value.js";\nconsole.log(`value ${value}`);\n');
    expect((await run(["prints.ts"])).stdout.trim()).toBe("value 1");
    expect((await run(["prints.ts"])).stdout.trim()).toBe("value 1");
    // Same size, so only the mtime (and the content) tells the files apart.
    fs.writeFileSync(path.join(dir, "value.ts"), "export const value: number = 2;\n");
    fs.utimesSync(path.join(dir, "value.ts"), new Date(), new Date(Date.now() + 5000));
    expect((await run(["prints.ts"])).stdout.trim()).toBe("value 2");
    const files = fs.readdirSync(path.join(cache, "scripts"));
    expect(files.filter((f) => f.startsWith("prints_ts-") && f.endsWith(".mjs"))).toHaveLength(2);
    expect(files.every((f) => !f.includes(".tmp-"))).toBe(true);
  });
});
