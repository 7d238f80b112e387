// The layers of issue 11 point 10, read from the import statements (static,
// `export … from` and dynamic `import("…")`, type-only ones included): the
// model (OPs, templates, steps) below the engine, the façades (CLI, the
// `dflow ui` server, Workflow.submit) above it, and the façades reading and
// controlling workflows only through the engine's API (engine/api/*).
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Every .ts file under `dir` (relative to the checkout, "/"-separated). */
function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => `${dir}/${f.split(path.sep).join("/")}`);
}

/** What `file` imports: relative specifiers resolved to files of the checkout (".js" -> ".ts"), others as written. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), "utf8"), true, true);
  return [
    ...new Set(
      importedFiles.map(({ fileName: spec }) => {
        if (!spec.startsWith(".")) return spec;
        return path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, ".ts");
      }),
    ),
  ];
}

type Offence = `${string} imports ${string}`;
const offences = (files: string[], bad: (imp: string, file: string) => boolean): Offence[] =>
  files.flatMap((f) => importsOf(f).filter((imp) => bad(imp, f)).map((imp): Offence => `${f} imports ${imp}`));

const FS = new Set(["node:fs", "fs", "node:fs/promises", "fs/promises", "fs-extra"]);

// ------------------------------------------------------------ rule 1

/** The façades that read and control workflows: the commands and the `dflow ui` server and report. */
const facades = [...sources("src/cli"), "src/cli.ts", "src/ui/server.ts", "src/ui/argo-api.ts", "src/ui/report.ts"];

/** Imports from engine/ outside engine/api/ that a façade module may make, and why. */
const ENGINE_EXCEPTIONS: { file: RegExp; target: RegExp; why: string }[] = [
  { file: /^src\/cli\/dpdisp\.ts$/, target: /^engine\/dispatcher\//, why: "`dflow dpdisp` is a DPDispatcher-compatible tool, not workflow reading or control" },
  { file: /^src\/cli\/dpdisp\.ts$/, target: /^engine\/executors\/clusters\.ts$/, why: "`dflow dpdisp`'s SSH context runs over the executors' SSH transport" },
  { file: /^src\/cli\/(run|script-[a-z]+)\.ts$/, target: /^engine\//, why: "`dflow run` runs a workflow script (bundling, the engine's error types), not a workflow of the work directory" },
  { file: /^src\/ui\/server\.ts$/, target: /^engine\/store\/fsx\.ts$/, why: "isInside, a path predicate with no I/O, keeps the page's assets to their folder" },
  { file: /^src\/cli\/ui\.ts$/, target: /^engine\/artifacts\/upload\.ts$/, why: "`dflow ui` passes artifactRoot() (where uploaded artifacts live) to the server, which serves files from there" },
];

/** Façade modules that may import fs, and why: none of them reads step directories. */
const FS_EXCEPTIONS: Record<string, string> = {
  "src/cli/dpdisp.ts": "DPDispatcher's own job files, not workflow directories",
  "src/cli/run.ts": "the workflow script the user names",
  "src/cli/script-bundle.ts": "bundles the workflow script (esbuild's output, its cache)",
  "src/cli/script-errors.ts": "the script's source lines for a syntax error",
  "src/cli/script-main.ts": "the bundled script it runs",
  "src/cli/report.ts": "writes the report file (-o) the user names",
  "src/cli/export.ts": "writes the manifests to the file (-o) the user names, read from the report the exported script's submit() wrote",
  "src/ui/report.ts": "the built page (ui/*.js, *.css) inlined into the report",
  "src/ui/server.ts": "the built page's assets, and streams the file WorkflowStore.file resolved and checked",
};

// ------------------------------------------------------------ rule 3

/** src/*.ts modules above the engine (or that import one that is): the rest is the model. */
const SDK_FACADES: Record<string, string> = {
  "src/workflow.ts": "Workflow.submit runs the engine; terminate/suspend/delete control it",
  "src/validate.ts": "checks expressions and values with the engine's own parsers, so that what passes runs",
  "src/utils.ts": "dflow's utils (catalogs, copy) on the engine's artifact code",
  "src/testing.ts": "runs an OP's execute as the engine's op-runner does",
  "src/index.ts": "the package's entry: re-exports the engine's upload/download and dispatcher stats",
  "src/query.ts": "Workflow.query_step's ArgoStep: the engine's read model (engine/api/steps-on-disk.ts)",
  "src/cli.ts": "the command line",
  "src/option-check.ts": "checks the options of Workflow too (imports workflow.ts)",
};

describe("layering (issue 11, point 10)", () => {
  it("the façades import from engine/ only engine/api/* (exceptions listed with their reason)", () => {
    const bad = offences(facades, (imp, f) => imp.startsWith("engine/") && !imp.startsWith("engine/api/") && !ENGINE_EXCEPTIONS.some((x) => x.file.test(f) && x.target.test(imp)));
    expect(bad).toEqual([]);
  });

  it("the façades do not import fs to read step directories (exceptions listed with their reason)", () => {
    const bad = offences(facades, (imp, f) => FS.has(imp) && !(f in FS_EXCEPTIONS));
    expect(bad).toEqual([]);
    // An exception that no longer applies is removed, not kept for later.
    const unused = Object.keys(FS_EXCEPTIONS).filter((f) => !importsOf(f).some((imp) => FS.has(imp)));
    expect(unused).toEqual([]);
  });

  it("`dflow logs` and `dflow watch` read through the engine's API only", () => {
    const bad = offences(["src/cli/logs.ts", "src/cli/watch.ts"], (imp) => FS.has(imp) || (imp.startsWith("engine/") && !imp.startsWith("engine/api/")));
    expect(bad).toEqual([]);
  });

  it("no engine module imports a façade (the CLI, the UI, Workflow, the package's index)", () => {
    const facade = (imp: string) => /^src\/(cli|ui)\//.test(imp) || ["src/cli.ts", "src/workflow.ts", "src/index.ts", "src/main.ts"].includes(imp);
    expect(offences(sources("engine"), facade)).toEqual([]);
  });

  it("the model (src/*.ts but the SDK's façades) imports nothing from engine/, nor a façade that does", () => {
    const model = fs
      .readdirSync(path.join(ROOT, "src"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => `src/${f}`)
      .filter((f) => !(f in SDK_FACADES))
      // The Argo export's renderer and its OP bundler are the model's too (the bundler names the runner by path only).
      .concat(fs.existsSync(path.join(ROOT, "src", "argo")) ? fs.readdirSync(path.join(ROOT, "src", "argo")).filter((f) => /^export.*\.ts$/.test(f)).map((f) => `src/argo/${f}`) : []);
    expect(model.length).toBeGreaterThan(10);
    expect(offences(model, (imp) => imp.startsWith("engine/") || imp in SDK_FACADES)).toEqual([]);
  });

  it("the rules see imports of every kind", () => {
    // The parser's reach, on the files above: a dynamic import, a re-export, a type-only import.
    expect(importsOf("src/cli/report.ts")).toContain("src/ui/report.ts");
    expect(importsOf("src/cli/format.ts")).toContain("engine/api/read.ts");
    expect(importsOf("src/cli/watch.ts")).toContain("src/cli/format.ts");
  });
});
