import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  canonicalize,
  compareTrees,
  defaultIgnore,
  listTree,
  parseReference,
  parseReferenceText,
  type Tree,
  type TreeEntry,
} from "./tree.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const refDir = path.resolve(here, "../reference/dflow-debug-trees");
const ref = (name: string) => parseReference(path.join(refDir, `${name}.txt`));
const refFiles = fs.readdirSync(refDir).filter((f) => f.endsWith(".txt")).sort();

const tmpDirs: string[] = [];
async function mkTmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), "dflow-tree-support-"));
  tmpDirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of tmpDirs) await fsp.rm(d, { recursive: true, force: true });
});

function entry(t: Tree, p: string): TreeEntry | undefined {
  return t.entries.find((e) => e.path === p);
}

describe("parseReference", () => {
  it("parses examples-test_dag.txt", () => {
    const t = ref("examples-test_dag");
    expect(t.entries).toHaveLength(47);
    expect(entry(t, "dag-{w1}")).toEqual({ type: "d", path: "dag-{w1}" });
    expect(entry(t, "dag-{w1}/children")).toEqual({ type: "f", path: "dag-{w1}/children" });
    expect(entry(t, "dag-{w1}/dag-{w1}-hello1-{s02}/inputs/artifacts/foo")).toEqual({
      type: "l",
      path: "dag-{w1}/dag-{w1}-hello1-{s02}/inputs/artifacts/foo",
      target: "<WORKDIR>/dag-{w1}/dag-{w1}-hello0-{s01}/workdir//tmp/bar.txt",
      targetKind: "file",
    });
    expect(entry(t, "dag-{w1}/dag-{w1}-hello1-{s02}/workdir/tmp/foo.txt")).toMatchObject({
      target: "<WORKDIR>/dag-{w1}/dag-{w1}-hello1-{s02}/inputs/artifacts/foo",
      targetKind: "file",
    });

    expect(t.contents.get("dag-{w1}/children")).toBe('{"0": "dag-{w1}-hello0-{s01}", "1": "dag-{w1}-hello1-{s02}"}');
    expect(t.contents.get("dag-{w1}/children.lock")).toBe("");
    expect(t.contents.get("dag-{w1}/status")).toBe("Succeeded");
    expect(t.contents.get("dag-{w1}/type")).toBe("DAG");
    expect(t.contents.get("dag-{w1}/pid")).toBe("<pid>");
    expect(t.contents.get("dag-{w1}/dag-{w1}-hello0-{s01}/name")).toBe("hello0");
    expect(t.contents.get("dag-{w1}/dag-{w1}-hello0-{s01}/log.txt")).toBe("");
    expect(t.contents.get("dag-{w1}/dag-{w1}-hello0-{s01}/outputs/parameters/msg")).toBe("1\n");
    expect(t.contents.get("dag-{w1}/dag-{w1}-hello1-{s02}/workdir/tmp/bar.txt")).toBe("Hello\nHello\n");
    expect(t.contents.get("dag-{w1}/dag-{w1}-hello1-{s02}/script")).toBe(
      "cat <WORKDIR>/dag-{w1}/dag-{w1}-hello1-{s02}/workdir/tmp/foo.txt <WORKDIR>/dag-{w1}/dag-{w1}-hello1-{s02}/workdir/tmp/foo.txt" +
        " > <WORKDIR>/dag-{w1}/dag-{w1}-hello1-{s02}/workdir/tmp/bar.txt && echo $((1\n*2)) > <WORKDIR>/dag-{w1}/dag-{w1}-hello1-{s02}/workdir/tmp/result.txt",
    );
    // every regular file has a content record, and nothing else does
    const files = t.entries.filter((e) => e.type === "f").map((e) => e.path).sort();
    expect([...t.contents.keys()].sort()).toEqual(files);
  });

  it("parses examples-test_steps.txt (parallel group order keys)", () => {
    const t = ref("examples-test_steps");
    expect(t.entries).toHaveLength(91);
    expect(t.contents.get("steps-{w1}/children")).toBe(
      '{"0-0": "steps-{w1}-hello0-{s01}", "1-0": "steps-{w1}-hello1-{s02}", "2-1": "steps-{w1}-hello3-{s03}", "2-0": "steps-{w1}-hello2-{s04}"}',
    );
    expect(t.contents.get("steps-{w1}/type")).toBe("Steps");
    expect(entry(t, "steps-{w1}/steps-{w1}-hello2-{s04}/outputs/artifacts/bar")).toMatchObject({
      type: "l",
      target: "<WORKDIR>/steps-{w1}/steps-{w1}-hello2-{s04}/workdir//tmp/bar.txt",
      targetKind: "file",
    });
  });

  it("parses tests-test_big_parameter.txt (keyed steps inside a Steps step)", () => {
    const t = ref("tests-test_big_parameter");
    expect(t.entries).toHaveLength(101);
    expect(entry(t, "big-param-{w1}/step1")).toEqual({ type: "d", path: "big-param-{w1}/step1" });
    expect(t.contents.get("big-param-{w1}/children")).toBe('{"0-0": "big-param-{w1}-big-step-{s01}"}');
    expect(t.contents.get("big-param-{w1}/big-param-{w1}-big-step-{s01}/children")).toBe('{"0-0": "step1", "1-0": "step2"}');
    expect(t.contents.get("big-param-{w1}/step1/inputs/parameters/dflow_key")).toBe("step1");
    expect(t.contents.get("big-param-{w1}/step1/inputs/parameters/foo")).toBe(
      '{"py/object": "test_big_parameter.Hello", "msg": "hello"}',
    );
    expect(t.contents.get("big-param-{w1}/big-param-{w1}-big-step-{s01}/type")).toBe("Steps");
    // scripts of Python OPs are longer than 2 KiB: truncated in the reference
    expect(t.contents.has("big-param-{w1}/step1/script")).toBe(true);
    expect(t.contents.get("big-param-{w1}/step1/script")).toBeNull();
  });

  it("parses tests-test_python.txt (uploads, dflow_python_packages, truncated script)", () => {
    const t = ref("tests-test_python");
    expect(t.entries).toHaveLength(92);
    expect(t.contents.get("python-{w1}/python-{w1}-step-{s01}/script")).toBeNull();
    expect(t.contents.get("foo.txt")).toBe("Hi");
    expect(t.contents.get("python-{w1}/python-{w1}-step-{s01}/inputs/parameters/.dflow/num")).toBe('{"type": "int"}');
    expect(t.contents.get("upload/{uuid01}/{tmp01}/.dflow/{uuid02}")).toBe(
      '{"path_list": [{"dflow_list_item": "foo.txt", "order": 0}]}',
    );
    expect(entry(t, "python-{w1}/python-{w1}-step-{s01}/inputs/artifacts/dflow_python_packages")).toEqual({
      type: "l",
      path: "python-{w1}/python-{w1}-step-{s01}/inputs/artifacts/dflow_python_packages",
      target: "<WORKDIR>/upload/{uuid05}/{tmp03}",
      targetKind: "dir",
    });
    expect(entry(t, "output.txt")).toMatchObject({ type: "l", targetKind: "file" });
    expect(entry(t, "upload/{uuid05}/{tmp03}/<DFLOW_SRC:rel>/src/dflow")).toMatchObject({
      type: "l",
      target: "<DFLOW_SRC>/src/dflow",
      targetKind: "dir",
    });

    const kept = t.entries.filter((e) => !defaultIgnore(e.path));
    expect(kept.some((e) => e.path.startsWith("upload"))).toBe(false);
    expect(kept.some((e) => e.path.includes("dflow_python_packages"))).toBe(false);
    expect(kept.some((e) => e.path === "python-{w1}/python-{w1}-step-{s01}/inputs/artifacts/foo")).toBe(true);
    expect(kept.some((e) => e.path === "foo.txt")).toBe(true);
  });

  it("parses tests-test_dag.txt and keeps dangling targets of the failed success-ratio run", () => {
    const t = ref("tests-test_dag");
    expect(t.entries).toHaveLength(93);
    expect(t.contents.get("dag-{w1}/type")).toBe("DAG");
    const f = ref("examples-test_success_ratio.failed");
    const dangling = f.entries.filter((e) => e.targetKind === "dangling");
    expect(dangling.length).toBeGreaterThan(0);
    expect(dangling.every((e) => e.path.endsWith("dflow_python_packages"))).toBe(true);
    expect(f.contents.get("success-ratio-{w1}/status")).toBe("Failed");
  });

  it("parses every reference file consistently", () => {
    expect(refFiles.length).toBeGreaterThanOrEqual(28);
    for (const name of refFiles) {
      const t = parseReference(path.join(refDir, name));
      expect(t.entries.length, name).toBeGreaterThan(10);
      const files = t.entries.filter((e) => e.type === "f").map((e) => e.path).sort();
      expect([...t.contents.keys()].sort(), name).toEqual(files);
      for (const e of t.entries) {
        expect(e.path.endsWith("/"), `${name}: ${e.path}`).toBe(false);
        if (e.type === "l") expect(["dir", "file", "dangling"], `${name}: ${e.path}`).toContain(e.targetKind);
      }
      for (const [p, c] of t.contents) {
        if (p.endsWith("/pid")) expect(c, `${name}: ${p}`).toBe("<pid>");
      }
      expect(compareTrees(t, t), name).toEqual([]);
    }
  });

  it("honours the fence notes", () => {
    const text = [
      "## Tree (normalised, sorted)",
      "",
      "```",
      "f        3 a",
      "f        0 b",
      "f        4 c",
      "f     5000 d",
      "l          e -> <WORKDIR>/a (file 3 B)",
      "l          g -> nowhere (dangling)",
      "```",
      "",
      "## File contents (regular files; text truncated at 2 KiB)",
      "",
      "### a (3 B)",
      "```",
      "a\n",
      "```",
      "",
      "### b (0 B)",
      "(empty)",
      "",
      "### c (4 B)",
      "```",
      "x",
      "",
      "```",
      "(no trailing newline)",
      "",
      "### d (5000 B)",
      "```",
      "### not a heading",
      "```",
      "[... truncated at 2048 of 5000 bytes]",
      "",
    ].join("\n");
    const t = parseReferenceText(text);
    expect(t.entries.map((e) => e.path)).toEqual(["a", "b", "c", "d", "e", "g"]);
    expect(t.contents.get("a")).toBe("a\n\n");
    expect(t.contents.get("b")).toBe("");
    expect(t.contents.get("c")).toBe("x\n");
    expect(t.contents.get("d")).toBeNull();
    expect(entry(t, "g")).toEqual({ type: "l", path: "g", target: "nowhere", targetKind: "dangling" });
  });
});

describe("canonicalize", () => {
  it("drops placeholder numbers in strings, entries and trees", () => {
    expect(canonicalize("dag-{w12}/dag-{w12}-hello-{s07}/x -> <WORKDIR>/upload/{uuid03}/{tmp02}")).toBe(
      "dag-{w}/dag-{w}-hello-{s}/x -> <WORKDIR>/upload/{uuid}/{tmp}",
    );
    expect(canonicalize({ type: "l", path: "a-{w1}/b-{s02}", target: "<WORKDIR>/a-{w1}", targetKind: "dir" })).toEqual({
      type: "l",
      path: "a-{w}/b-{s}",
      target: "<WORKDIR>/a-{w}",
      targetKind: "dir",
    });
    const t = canonicalize(ref("examples-test_dag"));
    expect(t.contents.get("dag-{w}/children")).toBe('{"0": "dag-{w}-hello0-{s}", "1": "dag-{w}-hello1-{s}"}');
    expect(entry(t, "dag-{w}/dag-{w}-hello1-{s}/inputs/artifacts/foo")?.target).toBe(
      "<WORKDIR>/dag-{w}/dag-{w}-hello0-{s}/workdir//tmp/bar.txt",
    );
  });

  it("makes step numbering irrelevant to compareTrees", () => {
    const t = ref("examples-test_steps");
    const swap = (s: string) => s.replace(/\{s0([34])\}/g, (_m, d: string) => `{s0${d === "3" ? "4" : "3"}}`);
    const swapped: Tree = {
      entries: t.entries.map((e) => ({ ...e, path: swap(e.path), ...(e.target ? { target: swap(e.target) } : {}) })),
      contents: new Map([...t.contents].map(([p, c]) => [swap(p), c === null ? null : swap(c)])),
    };
    expect(compareTrees(swapped, t)).toEqual([]);
  });
});

describe("listTree on a real directory", () => {
  it("normalises a small workflow dir and reports differences", async () => {
    const work = await mkTmp();
    const wf = path.join(work, "wf-abcde");
    const step = path.join(wf, "wf-abcde-hello0-x1y2z");
    const keyed = path.join(wf, "iter-0");
    await fsp.mkdir(path.join(step, "outputs", "artifacts"), { recursive: true });
    await fsp.mkdir(path.join(step, "workdir", "tmp"), { recursive: true });
    await fsp.mkdir(keyed, { recursive: true });
    await fsp.writeFile(path.join(wf, "status"), "Succeeded");
    await fsp.writeFile(path.join(wf, "type"), "Steps");
    await fsp.writeFile(path.join(wf, "pid"), "4242");
    await fsp.writeFile(path.join(wf, "children"), JSON.stringify({ "0-0": "wf-abcde-hello0-x1y2z", "1-0": "iter-0" }));
    await fsp.writeFile(path.join(step, "name"), "hello0");
    await fsp.writeFile(path.join(step, "phase"), "Succeeded");
    await fsp.writeFile(path.join(step, "pid"), "12345");
    await fsp.writeFile(path.join(step, "script"), `echo hi > ${step}/workdir/tmp/bar.txt`);
    await fsp.writeFile(path.join(step, "workdir", "tmp", "bar.txt"), "hi\n");
    await fsp.symlink(`${step}/workdir//tmp/bar.txt`, path.join(step, "outputs", "artifacts", "bar"));
    await fsp.symlink(path.join(work, "nowhere"), path.join(step, "outputs", "artifacts", "gone"));
    await fsp.writeFile(path.join(keyed, "name"), "plus1");
    await fsp.writeFile(path.join(step, "blob"), Buffer.from([0, 1, 2, 255]));
    // an upload as dflow lays it out
    const uuid = randomUUID();
    const up = path.join(work, "upload", uuid, "tmpab_cd123");
    await fsp.mkdir(path.join(up, ".dflow"), { recursive: true });
    const catUuid = randomUUID();
    await fsp.writeFile(path.join(up, ".dflow", catUuid), '{"path_list": []}');
    await fsp.symlink(up, path.join(keyed, "in"));

    const t = await listTree(work, { workdir: work });
    const S = "wf-{w1}/wf-{w1}-hello0-{s01}";
    expect(t.entries).toEqual(
      expect.arrayContaining([
        { type: "d", path: "wf-{w1}" },
        { type: "f", path: "wf-{w1}/status" },
        { type: "d", path: S },
        { type: "f", path: `${S}/name` },
        { type: "l", path: `${S}/outputs/artifacts/bar`, target: `<WORKDIR>/${S}/workdir//tmp/bar.txt`, targetKind: "file" },
        { type: "l", path: `${S}/outputs/artifacts/gone`, target: "<WORKDIR>/nowhere", targetKind: "dangling" },
        { type: "d", path: "wf-{w1}/iter-0" },
        { type: "l", path: "wf-{w1}/iter-0/in", target: "<WORKDIR>/upload/{uuid01}/{tmp01}", targetKind: "dir" },
        { type: "d", path: "upload/{uuid01}/{tmp01}/.dflow" },
        { type: "f", path: "upload/{uuid01}/{tmp01}/.dflow/{uuid02}" },
      ]),
    );
    expect(t.entries.every((e) => !/abcde|x1y2z|tmpab_cd123/.test(e.path + (e.target ?? "")))).toBe(true);
    expect(t.entries.some((e) => e.path.includes(uuid) || e.path.includes(catUuid))).toBe(false);
    expect(t.entries.map((e) => e.path)).toEqual([...t.entries.map((e) => e.path)].sort());
    expect(t.contents.get("wf-{w1}/pid")).toBe("<pid>");
    expect(t.contents.get(`${S}/pid`)).toBe("<pid>");
    expect(t.contents.get(`${S}/name`)).toBe("hello0");
    expect(t.contents.get(`${S}/script`)).toBe(`echo hi > <WORKDIR>/${S}/workdir/tmp/bar.txt`);
    expect(t.contents.get(`${S}/workdir/tmp/bar.txt`)).toBe("hi\n");
    expect(t.contents.get(`${S}/blob`)).toBeNull();
    expect(t.contents.get("wf-{w1}/children")).toBe(`{"0-0":"wf-{w1}-hello0-{s01}","1-0":"iter-0"}`);

    // compare with an "expected" tree: one entry missing on our side, one extra
    const expected: Tree = {
      entries: [...t.entries.filter((e) => e.path !== `${S}/phase`), { type: "f", path: `${S}/log.txt` }],
      contents: new Map([...t.contents].filter(([p]) => p !== `${S}/phase`)),
    };
    expected.contents.set(`${S}/log.txt`, "");
    const diffs = compareTrees(t, expected);
    expect(diffs).toHaveLength(2);
    expect(diffs).toContain("missing: f wf-{w}/wf-{w}-hello0-{s}/log.txt");
    expect(diffs).toContain("extra: f wf-{w}/wf-{w}-hello0-{s}/phase");
    // ignore makes them disappear
    expect(compareTrees(t, expected, { ignore: (p) => p.endsWith("/log.txt") || p.endsWith("/phase") })).toEqual([]);

    // wrong target and wrong content are reported too
    const changed: Tree = {
      entries: t.entries.map((e) => (e.path === `${S}/outputs/artifacts/bar` ? { ...e, target: "elsewhere" } : e)),
      contents: new Map([...t.contents].map(([p, c]) => [p, p === `${S}/name` ? "hello1" : c])),
    };
    const d2 = compareTrees(t, changed);
    expect(d2).toHaveLength(2);
    expect(d2.some((d) => d.startsWith("wrong entry: wf-{w}/wf-{w}-hello0-{s}/outputs/artifacts/bar"))).toBe(true);
    expect(d2.some((d) => d.startsWith("content differs: wf-{w}/wf-{w}-hello0-{s}/name"))).toBe(true);
    expect(compareTrees(t, changed, { ignoreContent: (p) => p.endsWith("/name"), ignore: (p) => p.includes("/outputs/") })).toEqual([]);
    // defaultIgnore drops the upload dir only
    const withoutUpload = compareTrees(t, { entries: t.entries.filter((e) => !e.path.startsWith("upload")), contents: t.contents });
    expect(withoutUpload.length).toBeGreaterThan(0);
    expect(
      compareTrees(t, { entries: t.entries.filter((e) => !e.path.startsWith("upload")), contents: t.contents }, { ignore: defaultIgnore }),
    ).toEqual([]);
  });

  it("lists below the workdir when given a workflow dir as root", async () => {
    const work = await mkTmp();
    const wf = path.join(work, "dag-0a1b2");
    await fsp.mkdir(path.join(wf, "dag-0a1b2-hello-zz9zz"), { recursive: true });
    await fsp.writeFile(path.join(wf, "status"), "Running");
    await fsp.writeFile(path.join(wf, "dag-0a1b2-hello-zz9zz", "name"), "hello");
    const t = await listTree(wf, { workdir: work });
    expect(t.entries.map((e) => e.path)).toEqual([
      "dag-{w1}",
      "dag-{w1}/dag-{w1}-hello-{s01}",
      "dag-{w1}/dag-{w1}-hello-{s01}/name",
      "dag-{w1}/status",
    ]);
  });
});

// Materialise a reference tree on disk with fresh random names, list it again and
// check it round-trips: this exercises listTree's normaliser against every layout
// feature the reference trees contain (nested step dirs, keyed steps, several
// workflows, uploads, odd symlink targets).
const RAND = "0123456789abcdefghijklmnopqrstuvwxyz";
const rand = (n: number, chars = RAND) => Array.from({ length: n }, () => chars[Math.floor(Math.random() * chars.length)]).join("");

async function materialise(t: Tree, work: string): Promise<void> {
  const subst = new Map<string, string>();
  const fill = (s: string): string =>
    s
      .replace(/\{(w\d+|s\d+|uuid\d+|tmp\d+)\}/g, (m, k: string) => {
        if (!subst.has(m)) {
          subst.set(m, k.startsWith("uuid") ? randomUUID() : k.startsWith("tmp") ? `tmp${rand(8, RAND + "_")}` : rand(5));
        }
        return subst.get(m)!;
      })
      .replaceAll("<WORKDIR>", work);
  const skip = (e: TreeEntry) => /<(?!WORKDIR>)/.test(e.path) || (e.target !== undefined && /<(?!WORKDIR>)/.test(e.target));
  // write `name` files in step order so that {sNN} numbering can follow mtimes
  const files = t.entries.filter((e) => e.type === "f" && !skip(e));
  for (const e of t.entries.filter((e) => e.type === "d" && !skip(e))) await fsp.mkdir(path.join(work, fill(e.path)), { recursive: true });
  for (const e of files) {
    const abs = path.join(work, fill(e.path));
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    const c = t.contents.get(e.path);
    let text = c === null || c === undefined ? "x".repeat(3000) : fill(c);
    if (path.basename(e.path) === "pid") text = text.replace("<pid>", String(10000 + Math.floor(Math.random() * 50000)));
    await fsp.writeFile(abs, text);
  }
  for (const e of t.entries.filter((e) => e.type === "l" && !skip(e))) {
    const abs = path.join(work, fill(e.path));
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await fsp.symlink(fill(e.target!), abs);
  }
}

describe("round trip through a materialised reference tree", () => {
  for (const name of refFiles) {
    it(name, async () => {
      const expected = parseReference(path.join(refDir, name));
      const work = await mkTmp();
      await materialise(expected, work);
      const actual = await listTree(work, { workdir: work });
      const ignore = (p: string) => defaultIgnore(p) || /<(?!WORKDIR>)/.test(p);
      expect(compareTrees(actual, expected, { ignore })).toEqual([]);
    });
  }
});
