// Every example in examples/ is run through the real `dflow` binary, in an
// empty directory, and must succeed — or fail, when its first line says
// `// expect-failure`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join(root, "dist", "src", "cli.js");
const examples = fs.readdirSync(path.join(root, "examples")).filter((f) => f.endsWith(".ts")).sort();

describe("examples", () => {
  it("there are examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  for (const file of examples) {
    const src = fs.readFileSync(path.join(root, "examples", file), "utf8");
    const expectFailure = src.startsWith("// expect-failure");
    // `// expect-statuses: Failed, Succeeded`: the example runs several workflows on purpose.
    const statusesLine = /^\/\/ expect-statuses: (.*)$/m.exec(src);
    const expectedStatuses = statusesLine ? statusesLine[1].split(",").map((x) => x.trim()).sort() : null;
    it(`${file} ${expectedStatuses ? `ends ${expectedStatuses.join(", ")}` : expectFailure ? "fails as it demonstrates" : "succeeds"}`, async () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-example-"));
      try {
        const r = await execa(process.execPath, [cli, "run", path.join(root, "examples", file)], { cwd, reject: false, all: true });
        const wfs = fs.readdirSync(cwd).filter((d) => fs.existsSync(path.join(cwd, d, "status")));
        expect(wfs.length, r.all).toBeGreaterThanOrEqual(1);
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
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });
  }
});
