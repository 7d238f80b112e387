// Resource templates on Argo Workflows (a workflow of workflows), run
// locally: create/apply start a Workflow with this engine, get and delete
// name one, success and failure conditions are waited for on its JSON,
// outputs read by jsonPath; other kinds are refused in one line.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Workflow } from "../../src/workflow.js";
import { readArgoStatus } from "../../engine/argo/index.js";
import { manifest } from "../support/argo.js";
import { useArgoWorkdir } from "../support/workdir.js";

const workdir = useArgoWorkdir("argo-resource-");

const PARENT = manifest("parent-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: start, template: start, arguments: {parameters: [{name: code, value: "0"}]}}
    - - {name: wait, template: wait, arguments: {parameters: [{name: wf, value: "{{steps.start.outputs.parameters.wf-name}}"}]}}
    - - {name: failing, template: start, arguments: {parameters: [{name: code, value: "3"}]}}
  - name: start
    inputs: {parameters: [{name: code}]}
    resource:
      action: create
      setOwnerReference: true
      manifest: |
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: child-
        spec:
          entrypoint: work
          templates:
          - name: work
            container: {image: alpine, command: [sh, -c, "echo child says hi; exit {{inputs.parameters.code}}"]}
      successCondition: status.phase == Succeeded
      failureCondition: status.phase in (Failed, Error)
    outputs:
      parameters:
      - {name: wf-name, valueFrom: {jsonPath: "{.metadata.name}"}}
      - {name: phase, valueFrom: {jqFilter: ".status.phase"}}
  - name: wait
    inputs: {parameters: [{name: wf}]}
    resource:
      action: get
      manifest: |
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          name: {{inputs.parameters.wf}}
      successCondition: status.phase == Succeeded
`;

describe("resource templates on Workflows (a workflow of workflows)", () => {
  it("start a child workflow, wait for its success or failure condition, and give its fields as outputs", async () => {
    const wf = Workflow.from_yaml(PARENT);
    const r = await wf.submit();
    expect(r.phase).toBe("Failed");
    const nodes = Object.values(wf.status()!.nodes);
    const byName = (n: string) => nodes.find((x) => x.displayName === n)!;
    const start = byName("start");
    expect(start.phase).toBe("Succeeded");
    const [child, phase] = start.outputs!.parameters!;
    expect([child.name, phase]).toEqual(["wf-name", { name: "phase", value: "Succeeded" }]);
    expect(child.value).toMatch(/^child-[0-9a-z]{5}$/);
    // The child is a workflow of its own, in the work directory, owned by the parent.
    const childStatus = readArgoStatus(path.join(workdir.dir, child.value!))!;
    expect(childStatus.phase).toBe("Succeeded");
    expect(byName("wait").phase).toBe("Succeeded");
    expect(byName("failing")).toMatchObject({ phase: "Failed", message: "failure condition 'status.phase in (Failed, Error)' evaluated true" });
    expect(fs.readFileSync(path.join(workdir.dir, r.id, start.id, "log.txt"), "utf8")).toBe(`workflow.argoproj.io/${child.value} created\n`);
  });

  it("refuse, before anything runs, what needs Kubernetes: other kinds, patches, kubectl flags, jq programs", () => {
    const t = (resource: string, outputs = "") => manifest("refused-")`
  entrypoint: main
  templates:
  - name: main
    resource:
${resource}
${outputs}`;
    const job = "      action: create\n      manifest: |\n        apiVersion: batch/v1\n        kind: Job\n        metadata: {generateName: j-}";
    expect(() => Workflow.from_yaml(t(job))).toThrow('templates.main.resource.manifest is not supported when running Argo workflows locally: a resource template acts here on Argo Workflows only (a workflow of workflows); kind "Job" needs Kubernetes');
    const wf = "      manifest: |\n        apiVersion: argoproj.io/v1alpha1\n        kind: Workflow\n        metadata: {name: w}";
    expect(() => Workflow.from_yaml(t(`      action: patch\n${wf}`))).toThrow('templates.main.resource.action is not supported when running Argo workflows locally: "patch" is not one of create, apply, get, delete (a patch or replace needs Kubernetes)');
    expect(() => Workflow.from_yaml(t(`      action: create\n      flags: [--validate=false]\n${wf}`))).toThrow("templates.main.resource.flags is not supported when running Argo workflows locally: kubectl flags need Kubernetes");
    expect(() => Workflow.from_yaml(t(`      action: get\n${wf}`, "    outputs: {parameters: [{name: count, valueFrom: {jqFilter: '.items | length'}}]}"))).toThrow("templates.main.outputs.parameters.count.valueFrom.jqFilter is not supported when running Argo workflows locally: a jq program other than a path (.metadata.name) needs jq; give the path, or jsonPath");
    expect(() => Workflow.from_yaml(t(`      action: get\n      successCondition: "status.phase === Succeeded"\n${wf}`))).toThrow(/^invalid spec: templates\.main\.resource\.successCondition: cannot parse "status\.phase === Succeeded"/);
  });
});
