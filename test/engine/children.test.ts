// The `children` file of a Steps/DAG directory: its text is what dflow writes
// (json.dumps of order key -> step directory, registration order), whatever
// was registered before a restart, and it grows without being rebuilt.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ChildrenFile } from "../../engine/children.js";
import { pyJson } from "../../engine/store/values.js";

let dir = "";
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = () => fs.readFileSync(path.join(dir, "children"), "utf8");

describe("ChildrenFile", () => {
  it("writes json.dumps of its entries in registration order, first registration winning", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-children-"));
    const cf = await ChildrenFile.open(dir);
    await cf.flush();
    expect(read()).toBe("{}");
    const want: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) {
      const key = `0-${i % 7}-${i}`;
      await cf.add(key, `wf-step-${i}-é"\\`);
      want[key] = `wf-step-${i}-é"\\`;
    }
    await cf.add("0-0-0", "a later registration of a key");
    await cf.flush();
    expect(read()).toBe(pyJson(want));
    expect(JSON.parse(read())).toEqual(want);
    expect(read()).toContain('"0-0-0": "wf-step-0-é\\"\\\\", "0-1-1": ');
  });

  it("keeps what a previous run registered, in the file and in the journal only, then adds to it", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-children-"));
    fs.writeFileSync(path.join(dir, "children"), pyJson({ "0-0": "a", "0-1": "b" }));
    const cf = await ChildrenFile.open(dir, undefined, new Map([["0-1", "b"], ["1-0", "c"]]));
    await cf.add("2-0", "d");
    await cf.flush();
    expect(read()).toBe('{"0-0": "a", "0-1": "b", "1-0": "c", "2-0": "d"}');
    expect(cf.get("1-0")).toBe("c");
  });
});
