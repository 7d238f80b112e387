// Argo's node graph (engine/argo/graph.ts): the `children` and
// `outboundNodes` that Argo's clients draw (the argo UI walks `children` from
// the root node, links the workflow's onExit to the root's outbound nodes),
// as Argo's controller links them; runs of real manifests, read back as the
// Argo Server API serves them.
import { describe, expect, it } from "vitest";
import { argoGraph, readArgoStatus } from "../../engine/argo/index.js";
import { Workflow } from "../../src/workflow.js";
import { manifest } from "../support/argo.js";
import { useArgoWorkdir } from "../support/workdir.js";

const work = useArgoWorkdir("argo-graph-");

/** The run's graph as short names ("W" for the workflow): node -> children, and Steps/DAG outbound nodes. */
async function graphOf(yaml: string) {
  const wf = Workflow.from_yaml(yaml);
  const r = await wf.submit();
  const st = readArgoStatus(`${work.dir}/${r.id}`)!;
  const g = argoGraph(st.nodes, st.name);
  const short = (id: string) => g[id]!.name.replace(st.name, "W");
  const children: Record<string, string[]> = {};
  const outbound: Record<string, string[]> = {};
  const boundary: Record<string, string> = {};
  for (const n of Object.values(g)) {
    children[short(n.id)] = n.children.map(short).sort();
    if (n.outboundNodes) outbound[short(n.id)] = n.outboundNodes.map(short).sort();
    if (n.boundaryID) boundary[short(n.id)] = short(n.boundaryID);
    expect(n).not.toHaveProperty("dependencies");
    expect(n).not.toHaveProperty("targets");
  }
  return { phase: r.phase, children, outbound, boundary };
}

const SAY = `
  - name: say
    inputs: {parameters: [{name: m, value: x}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.m}}"]}`;

describe("Argo's node graph", () => {
  it("a DAG: roots under the DAG, each task under its dependencies' outbound nodes (a loop's items, a nested Steps' last pods), the DAG's outbound nodes its leaves'", async () => {
    const g = await graphOf(manifest("graph-dag-")`
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: say}
      - {name: b, template: say, depends: a, withItems: [1, 2]}
      - {name: c, template: inner, depends: a}
      - {name: d, template: say, depends: "b && c"}
  - name: inner
    steps:
    - - {name: s1, template: say}
    - - {name: s2, template: say}
      - {name: s3, template: say}
${SAY}
`);
    expect(g.phase).toBe("Succeeded");
    expect(g.children).toMatchObject({
      W: ["W.a"],
      "W.a": ["W.b", "W.c"],
      "W.b": ["W.b(0:1)", "W.b(1:2)"],
      "W.b(0:1)": ["W.d"],
      "W.b(1:2)": ["W.d"],
      "W.c": ["W.c[0]"],
      "W.c[0]": ["W.c[0].s1"],
      "W.c[0].s1": ["W.c[1]"],
      "W.c[1]": ["W.c[1].s2", "W.c[1].s3"],
      "W.c[1].s2": ["W.d"],
      "W.c[1].s3": ["W.d"],
      "W.d": [],
    });
    expect(g.outbound).toEqual({ W: ["W.d"], "W.c": ["W.c[1].s2", "W.c[1].s3"] });
    expect(g.boundary).toMatchObject({ "W.a": "W", "W.b(0:1)": "W", "W.c[1].s2": "W.c", "W.c[1]": "W.c" });
  });

  it("steps: a group under the previous group's steps' outbound nodes (a retried step's last attempt), a loop over no items its Skipped node; a step's onExit under the step", async () => {
    const g = await graphOf(manifest("graph-steps-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: flaky, onExit: say}
    - - {name: none, template: say, withParam: "[]"}
    - - {name: last, template: say}
  - name: flaky
    retryStrategy: {limit: 2}
    container: {image: busybox, command: [sh, -c, "test {{retries}} -ge 1"]}
${SAY}
`);
    expect(g.phase).toBe("Succeeded");
    expect(g.children).toMatchObject({
      W: ["W[0]"],
      "W[0]": ["W[0].first"],
      "W[0].first": ["W[0].first(0)", "W[0].first(1)", "W[0].first.onExit"],
      "W[0].first(0)": [],
      "W[0].first(1)": ["W[1]"],
      "W[0].first.onExit": [],
      "W[1]": ["W[1].none"],
      "W[1].none": ["W[2]"],
      "W[2]": ["W[2].last"],
    });
    expect(g.outbound.W).toEqual(["W[2].last"]);
  });

  it("a container set's containers by their dependencies; the workflow's hooks under the root, its onExit nobody's child", async () => {
    const g = await graphOf(manifest("graph-set-")`
  entrypoint: main
  onExit: say
  hooks:
    running: {expression: 'workflow.status == "Running"', template: say}
  templates:
  - name: main
    containerSet:
      containers:
      - {name: a, image: busybox, command: [echo, a]}
      - {name: b, image: busybox, command: [echo, b], dependencies: [a]}
      - {name: c, image: busybox, command: [echo, c], dependencies: [a]}
      - {name: d, image: busybox, command: [echo, d], dependencies: [b, c]}
${SAY}
`);
    expect(g.phase).toBe("Succeeded");
    expect(g.children).toMatchObject({ W: ["W.a", "W.hooks.running"], "W.a": ["W.b", "W.c"], "W.b": ["W.d"], "W.c": ["W.d"], "W.d": [] });
    expect(g.boundary).toMatchObject({ "W.a": "W", "W.d": "W" });
    expect(Object.values(g.children).flat()).not.toContain("W.onExit");
  });
});
