// Argo manifests through the user's entry points: Workflow.from_yaml (SDK)
// and `dflow run wf.yaml` (CLI, from dist: needs a fresh build), the run
// visible to the engine's readers, and refusals in one line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { execa } from "execa";
import * as tar from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { config } from "../../src/config.js";
import { Workflow } from "../../src/workflow.js";
import { queryStepsIn } from "../../engine/api/steps-on-disk.js";
import { readArgoStatus } from "../../engine/argo/index.js";
import { rootLayers } from "../../engine/argo/rootfs.js";
import { PRIVATE_ROOTS, mountNamespace } from "../../engine/argo/sandbox.js";
import { syncLocks } from "../../engine/argo/sync.js";
import { manifest } from "../support/argo.js";
import { until } from "../support/wait.js";

const root = path.resolve(import.meta.dirname, "../..");
const cli = path.join(root, "dist", "src", "cli.js");
const corpus = path.join(root, "fixtures", "argo", "examples");

const PARAMS = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: pass-
spec:
  entrypoint: main
  arguments:
    parameters: [{name: who, value: world}]
  templates:
  - name: main
    steps:
    - - name: make
        template: say
        arguments: {parameters: [{name: text, value: "hello {{workflow.parameters.who}}"}]}
    - - name: use
        template: say
        arguments: {parameters: [{name: text, value: "got {{steps.make.outputs.result}}"}]}
        when: "{{steps.make.status}} == Succeeded"
  - name: say
    inputs: {parameters: [{name: text}]}
    container: {image: busybox, command: [sh, -c], args: ["echo '{{inputs.parameters.text}}' | tee /tmp/said"]}
    outputs: {parameters: [{name: said, valueFrom: {path: /tmp/said}}]}
`;

let work: string;
let before: string;
beforeAll(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-run-")));
  before = config.debug_workdir;
  config.debug_workdir = work;
});
afterAll(() => {
  config.debug_workdir = before;
});

describe("Workflow.from_yaml", () => {
  it("runs the manifest in the work directory: results passed between steps, readable as steps and as Argo nodes", async () => {
    const wf = Workflow.from_yaml(PARAMS);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    expect(r.id).toMatch(/^pass-[0-9a-z]{5}$/);
    const nodes = Object.values(wf.status()!.nodes);
    const use = nodes.find((n) => n.displayName === "use")!;
    expect(use.inputs?.parameters).toEqual([{ name: "text", value: "got hello world" }]);
    expect(use.outputs?.parameters).toEqual([{ name: "said", value: "got hello world" }]);
    // The same run as the engine's readers see it (dflow get / list / ui).
    const steps = queryStepsIn(r.id, path.join(work, r.id), { name: "use" });
    expect(steps.map((s) => [s.phase, s.type])).toEqual([["Succeeded", "Pod"]]);
    expect(fs.readFileSync(path.join(steps[0].dir, "log.txt"), "utf8")).toBe("got hello world\n");
    // Each node wrote /tmp/said in its own sandbox.
    expect(fs.readFileSync(path.join(steps[0].dir, "root", "tmp", "said"), "utf8")).toBe("got hello world\n");
  });

  it("gives the variables of Argo's catalog that Argo's variables-showcase meets: steps.name, tasks.name, hostNodeName, a first attempt's lastRetry, workflow.status and the whole labels", async () => {
    const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: catalog-, labels: {team: a}}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: show, arguments: {parameters: [{name: caller, value: "[{{steps.name}}]"}]}}
    - - {name: graph, template: graph}
  - name: graph
    dag:
      tasks:
      - {name: t, template: task}
      - {name: u, template: echo, depends: t, arguments: {parameters: [{name: v, value: "{{tasks.t.hostNodeName}} {{tasks.t.startedAt}}"}]}}
  - name: show
    inputs: {parameters: [{name: caller}]}
    retryStrategy: {limit: 1}
    script: {image: alpine, command: [sh], source: 'echo "{{steps.name}} {{inputs.parameters.caller}} {{retries}} [{{lastRetry.status}}] {{lastRetry.exitCode}} {{workflow.status}} {{workflow.labels}}"'}
  - name: task
    script: {image: alpine, command: [sh], source: 'echo "{{tasks.name}}"'}
  - name: echo
    inputs: {parameters: [{name: v}]}
    script: {image: alpine, command: [sh], source: 'echo "{{inputs.parameters.v}}"'}
`);
    expect((await wf.submit()).phase).toBe("Succeeded");
    const result = (d: string) => Object.values(wf.status()!.nodes).find((n) => n.displayName === d)!.outputs?.result;
    // The calling step's name; the entrypoint's caller is no step ("").
    expect(result("first(0)")).toBe("first [] 0 [] 0 Running {team:a}");
    expect(result("t")).toBe("t");
    const [host, started] = result("u")!.split(" ");
    expect(host).toBe(os.hostname());
    expect(started).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("refuses a text of several Workflows in one line that says how to run them (Workflow.from_yaml is one run)", () => {
    const one = manifest("one-")`  entrypoint: main\n  templates: [{name: main, container: {image: alpine, command: ["true"]}}]\n`;
    expect(() => Workflow.from_yaml(`${one}---\n${one}`)).toThrow(
      "workflow manifest: expected one document of kind Workflow, found Workflow, Workflow (one run is one Workflow: `dflow run FILE` runs each Workflow of a file, as `argo submit` does)",
    );
  });

  it("reads YAML as Go's yaml does: a multi-line flow sequence may close at its key's indentation (Argo's secrets.yaml)", async () => {
    const wf = Workflow.from_yaml(manifest("flow-")`  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c]
      args: ['
        echo "one";
        echo "two: \`echo three\`"
      ']
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const [node] = Object.values(wf.status()!.nodes);
    expect(fs.readFileSync(path.join(work, r.id, node!.id, "log.txt"), "utf8")).toBe("one\ntwo: three\n");
  });

  it("refuses a timeout that is no Go duration at submit, as Argo's validation does, and other numbers and durations that are none; one a parameter gives fails its node with Go's message", async () => {
    const wf = (timeout: string) => manifest("timeouts-")`  entrypoint: main
  arguments: {parameters: [{name: t, value: soon}]}
  templates:
  - name: main
    timeout: ${timeout}
    container: {image: busybox, command: [echo, hi]}
`;
    expect(() => Workflow.from_yaml(wf("soon"))).toThrow('invalid spec: templates.main.timeout: time: invalid duration "soon"');
    expect(() => Workflow.from_yaml(wf('"10"'))).toThrow("invalid spec: main has invalid duration format in timeout");
    // Numbers and durations elsewhere too: a typo was read as none (no deadline, no retry, no wait).
    const field = (f: string) => manifest("amounts-")`  entrypoint: main
  templates:
  - name: main
    ${f}
    container: {image: busybox, command: [echo, hi]}
`;
    for (const [f, message] of [
      ["activeDeadlineSeconds: soon", 'templates.main.activeDeadlineSeconds: "soon" is not a whole number'],
      ["retryStrategy: {limit: lots}", 'templates.main.retryStrategy.limit: "lots" is not a whole number'],
      ["retryStrategy: {limit: 2, backoff: {duration: soon}}", `templates.main.retryStrategy.backoff.duration: "soon" is not a duration (seconds, or Go's form: 30s, 2m, 1h)`],
      ["memoize: {key: k, maxAge: soon, cache: {configMap: {name: c}}}", `templates.main.memoize.maxAge: "soon" is not a duration (seconds, or Go's form: 30s, 2m, 1h)`],
    ]) expect(() => Workflow.from_yaml(field(f!)), f).toThrow(`invalid spec: ${message}`);
    // (On a container template, parallelism is refused whatever it is: it is only for steps and DAGs.)
    expect(() => Workflow.from_yaml(manifest("amounts-")`  entrypoint: main
  templates:
  - name: main
    parallelism: many
    steps: [[{name: a, template: hi}]]
  - name: hi
    container: {image: busybox, command: [echo, hi]}
`)).toThrow('invalid spec: templates.main.parallelism: "many" is not a whole number');
    expect(() => Workflow.from_yaml(field('retryStrategy: {limit: "2", backoff: {duration: "1", factor: "2", maxDuration: 1m}}'))).not.toThrow();
    const late = Workflow.from_yaml(wf('"{{workflow.parameters.t}}"'));
    expect((await late.submit()).phase).toBe("Failed");
    expect(Object.values(late.status()!.nodes).map((n) => [n.phase, n.message])).toEqual([["Failed", 'time: invalid duration "soon"']]);
  });

  it("refuses at submit the rest of what Argo's validation rejects and a run here would not notice, every problem at once in Argo's words", () => {
    const bad = manifest("rules-")`  entrypoint: main
  arguments: {parameters: [{name: "bad name", value: x}]}
  templates:
  - name: main
    timeout: 10s
    outputs: {artifacts: [{name: a, path: /tmp/a}]}
    steps:
    - - {name: "a_b", template: leaf}
      - {name: d, template: dag}
  - name: leaf
    parallelism: 2
    inputs: {artifacts: [{name: i, from: "{{workflow.name}}", path: /x}]}
    outputs: {parameters: [{name: p, globalName: "not ok!", valueFrom: {path: /tmp/p}}]}
    volumes: [{name: v, emptyDir: {}}, {name: w, emptyDir: {}}]
    sidecars: [{name: wait, image: busybox, command: [sleep, "1"]}]
    container: {command: [echo], volumeMounts: [{name: v, mountPath: /x}, {name: w, mountPath: /x}]}
  - name: dag
    dag:
      tasks:
      - {name: "1st", template: echo}
      - {name: second, template: echo, depends: "1st.AnySucceeded", continueOn: {failed: true}}
  - name: echo
    script: {image: busybox, command: [sh], source: "echo hi"}
`;
    expect(() => Workflow.from_yaml(bad)).toThrow(
      [
        "invalid spec: 14 problems Argo's validation rejects:",
        "  spec.arguments.parameters[0].name: 'bad name' is invalid: Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1",
        "  templates.main.outputs.artifacts.a.path only valid in container/script templates",
        "  templates.main: Steps template doesn't support timeout field",
        "  templates.main.steps[0].name 'a_b' is invalid: name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character (e.g. My-name1-2, 123-NAME)",
        "  templates.leaf.inputs.artifacts.i.from not valid in inputs",
        "  templates.leaf.outputs.parameters.p.globalName: Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1",
        "  templates.leaf.parallelism is only valid for steps and dag templates",
        "  templates.leaf.container.image may not be empty",
        "  templates.leaf.container.volumeMounts[1].mountPath '/x' already mounted in container.volumeMounts.v",
        "  templates.leaf.inputs.artifacts[0].path '/x' already mounted in container.volumeMounts.v",
        '  templates.leaf.sidecars: "wait" is a reserved Argo container name',
        "  templates.dag.tasks.1st name cannot begin with a digit when using either 'depends' or 'dependencies'",
        "  templates.dag cannot use 'continueOn' when using 'depends'. Instead use 'dep-task.Failed'/'dep-task.Errored'",
        "  templates.dag.tasks.second dependency '1st' uses an items-based condition such as .AnySucceeded or .AllFailed but does not contain any items",
      ].join("\n"),
    );
    // One at a time, as Argo names it.
    expect(() => Workflow.from_yaml(manifest("rules-")`  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: a, template: echo}, {name: b, template: echo, depends: "a.AllFailed"}]}
  - name: echo
    container: {image: busybox, command: [echo]}
`)).toThrow("invalid spec: templates.main.tasks.b dependency 'a' uses an items-based condition such as .AnySucceeded or .AllFailed but does not contain any items");
    // Kubernetes-side fields, not used here, are checked as Argo checks them.
    expect(() => Workflow.from_yaml(manifest("rules-")`  entrypoint: main
  podGC: {strategy: OnPodFinished}
  templates:
  - name: main
    metrics: {prometheus: [{name: "duration-seconds", help: "x", gauge: {value: "1"}}, {name: ok_name, counter: {value: "1"}}]}
    container: {image: busybox, command: [echo]}
`)).toThrow(
      [
        "invalid spec: 3 problems Argo's validation rejects:",
        "  podGC.strategy unknown strategy 'OnPodFinished'",
        "  templates.main metric name 'duration-seconds' is invalid. Metric names must contain alphanumeric characters or '_'",
        "  templates.main metric 'ok_name' must contain a help string under 'help: ' field",
      ].join("\n"),
    );
    // templateDefaults give every template their fields (a timeout on the steps template too): not its own, not refused.
    expect(() => Workflow.from_yaml(manifest("rules-ok-")`  entrypoint: main
  templateDefaults: {timeout: 30s, container: {image: busybox}}
  templates:
  - name: main
    steps: [[{name: a, template: echo}]]
  - name: echo
    container: {command: [echo, hi]}
`)).not.toThrow();
  });

  it("refuses at submit a tag that names nothing, as Argo's validation does, every one at once with what is there instead; lets through what Argo lets through", () => {
    const bad = manifest("tags-")`  entrypoint: main
  arguments: {parameters: [{name: who, value: me}]}
  templates:
  - name: main
    steps:
    - - name: a
        template: echo
        arguments: {parameters: [{name: msg, value: "{{workflow.parameters.whom}}"}]}
    - - name: b
        template: echo
        arguments: {parameters: [{name: msg, value: "{{steps.a.outputs.parameters.nope}}"}]}
      - name: c
        template: echo
        arguments: {parameters: [{name: msg, value: "{{steps.zz.outputs.result}}"}]}
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}} {{inputs.parameters.other}}"]}
  - name: d
    dag:
      tasks:
      - {name: x, template: echo, arguments: {parameters: [{name: msg, value: "1"}]}}
      - {name: z, template: echo, arguments: {parameters: [{name: msg, value: "{{tasks.x.outputs.result}}"}]}}
`;
    expect(() => Workflow.from_yaml(bad)).toThrow(
      [
        "invalid spec: 5 problems with the workflow's tags:",
        "  templates.echo: failed to resolve {{inputs.parameters.other}}: there is no inputs.parameters.other there (inputs.parameters has msg)",
        "  templates.main.steps failed to resolve {{workflow.parameters.whom}}: there is no workflow.parameters.whom there (workflow.parameters has who)",
        "  templates.main.steps failed to resolve {{steps.a.outputs.parameters.nope}}: there is no steps.a.outputs.parameters there (steps.a.outputs has result)",
        "  templates.main.steps failed to resolve {{steps.zz.outputs.result}}: there is no steps.zz there (steps has a, b, c)",
        "  templates.d.tasks.z missing dependency 'x' for parameter 'msg': add it to the task's dependencies (or depends)",
      ].join("\n"),
    );
    // What Argo resolves only when the workflow runs, or lets through: expressions, {{item}} and any key of a
    // withParam item, loop outputs, a later step reading an earlier one, every task's outputs in a DAG (its
    // ancestors' status), a workflow output an earlier step lifts, workflow.creationTimestamp, retries, and
    // tags Argo does not check (node.name, lastRetry.*).
    const good = manifest("tags-ok-")`  entrypoint: main
  onExit: bye
  templates:
  - name: main
    steps:
    - - name: gen
        template: gen
    - - name: each
        template: echo
        withParam: "{{steps.gen.outputs.result}}"
        arguments: {parameters: [{name: msg, value: "{{item.k}} {{item}} {{=sprig.upper('x')}} {{workflow.creationTimestamp.Y}}"}]}
    - - name: after
        template: echo
        when: "{{steps.each.status}} == Succeeded"
        arguments: {parameters: [{name: msg, value: "{{steps.each.outputs.parameters}} {{steps.gen.outputs.parameters.p}}"}]}
    - - name: dag
        template: d
  - name: gen
    outputs: {parameters: [{name: p, globalName: lifted, valueFrom: {path: /tmp/p}}]}
    script: {image: alpine, command: [sh], source: "echo x > /tmp/p"}
  - name: echo
    inputs: {parameters: [{name: msg}]}
    retryStrategy: {limit: 1}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}} {{pod.name}} {{retries}} {{node.name}} {{inputs.parameters}}"]}
  - name: d
    dag:
      tasks:
      - {name: x, template: echo, arguments: {parameters: [{name: msg, value: "1"}]}}
      - {name: z, template: echo, dependencies: [x], arguments: {parameters: [{name: msg, value: "{{tasks.x.outputs.result}} {{tasks.x.status}}"}]}}
  - name: bye
    container: {image: alpine, command: [echo, "{{workflow.status}} {{workflow.failures}} {{workflow.outputs.parameters.lifted}}"]}
`;
    expect(() => Workflow.from_yaml(good)).not.toThrow();
  });

  it("refuses at submit what Argo's validation refuses (it ran here as something else): loops, retry policies, booleans, names, cycles, an argument outside its enum, an output with no source", async () => {
    const steps = (step: string, extra = "") => manifest("checks-")`  entrypoint: main
  templates:
  - name: main
${extra}    steps: [[${step}]]
  - name: hi
    container: {image: busybox, command: [echo, hi]}
`;
    for (const [text, message] of [
      [steps("{name: a, template: hi, withSequence: {count: lots}}"), 'templates.main.steps[0].a.withSequence.count: "lots" is not a whole number'],
      [steps("{name: a, template: hi, withSequence: {count: 2, end: 3}}"), "templates.main.steps[0].a.withSequence: only one of count or end can be defined in withSequence"],
      [steps("{name: a, template: hi, withItems: [1], withParam: '[2]'}"), "templates.main.steps[0].a: only one of withItems, withParam, withSequence can be specified"],
      [steps("{name: a, template: hi, continueOn: {failed: maybe}}"), 'templates.main.steps[0].a.continueOn.failed: "maybe" is not true or false'],
      [steps("{name: a, template: hi}, {name: a, template: hi}"), "templates.main.steps[0].name 'a' is not unique"],
      [steps("{name: a, template: hi}", "    retryStrategy: {limit: 1, retryPolicy: Sometimes}\n"), "templates.main.retryStrategy.retryPolicy: Sometimes is not a valid RetryPolicy (Always, OnError, OnFailure or OnTransientError)"],
      [steps("{name: a, template: hi}", '    failFast: "maybe"\n'), 'templates.main.failFast: "maybe" is not true or false'],
      [manifest("cycle-")`  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: A, template: hi, dependencies: [B]}, {name: B, template: hi, dependencies: [A]}]}
  - name: hi
    container: {image: busybox, command: [echo, hi]}
`, "templates.main.tasks dependency cycle detected: A->B->A"],
      [manifest("enum-")`  entrypoint: main
  arguments: {parameters: [{name: colour, value: mauve, enum: [red, blue]}]}
  templates:
  - name: main
    container: {image: busybox, command: [echo, hi]}
`, "spec.arguments.colour.value should be present in spec.arguments.colour.enum list"],
      [manifest("outputs-")`  entrypoint: main
  templates:
  - name: main
    outputs: {parameters: [{name: o, valueFrom: {default: x}}]}
    container: {image: busybox, command: [echo, hi]}
`, "templates.main.outputs.parameters.o.path must be specified for Container templates"],
    ]) expect(() => Workflow.from_yaml(text!), message).toThrow(`invalid spec: ${message}`);
    // A count a parameter gives that is no number: the loop's node errs with Go's message (it ran no item).
    const late = Workflow.from_yaml(manifest("late-count-")`  entrypoint: main
  arguments: {parameters: [{name: count, value: lots}]}
  templates:
  - name: main
    steps: [[{name: a, template: hi, withSequence: {count: "{{workflow.parameters.count}}"}}]]
  - name: hi
    container: {image: busybox, command: [echo, hi]}
`);
    const r = await late.submit();
    expect(r.phase).not.toBe("Succeeded");
    expect(Object.values(late.status()!.nodes).map((n) => n.message).join(" ")).toContain('withSequence: strconv.Atoi: parsing "lots": invalid syntax');
  });

  it("runs a workflow whose fields configure Kubernetes only (resources, podResources, resourceClaims, scheduling): a pod uses what this machine has", async () => {
    const wf = Workflow.from_yaml(manifest("k8s-only-")`  entrypoint: main
  podResources: {limits: {cpu: "1", memory: 512Mi}}
  resourceClaims: [{name: accelerator, resourceClaimTemplateName: gpu}]
  nodeSelector: {kubernetes.io/os: linux}
  serviceAccountName: argo
  templates:
  - name: main
    podResources: {limits: {cpu: "2", memory: 1Gi}}
    resourceClaims: [{name: accelerator, resourceClaimName: gpu-0}]
    tolerations: [{key: gpu, operator: Exists}]
    container:
      image: busybox
      command: [echo, ran]
      resources: {limits: {memory: 1Mi}, claims: [{name: accelerator}]}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    expect(Object.values(wf.status()!.nodes).map((n) => n.outputs?.result)).toEqual(["ran"]);
  });

  it("reads scalars as Argo's yaml.v2 does (YAML 1.1): unquoted yes/off are booleans, \"true\"/\"false\" in a string field; 0755 is octal; 12:30 and . stay strings", async () => {
    const wf = Workflow.from_yaml(manifest("yaml11-")`  entrypoint: main
  arguments:
    parameters:
    - {name: a, value: yes}
    - {name: b, value: off}
    - {name: c, value: 12:30}
    - {name: d, value: .}
    - {name: e, value: "yes"}
  templates:
  - name: main
    inputs:
      artifacts: [{name: f, path: /tmp/f, mode: 0755, raw: {data: hi}}]
    container: {image: busybox, command: [sh, -c, "echo {{workflow.parameters.a}} {{workflow.parameters.b}} {{workflow.parameters.c}} {{workflow.parameters.d}} {{workflow.parameters.e}} $(stat -c %a /tmp/f)"]}
`);
    expect((await wf.submit()).phase).toBe("Succeeded");
    expect(Object.values(wf.status()!.nodes)[0]!.outputs?.result).toBe("true false 12:30 . yes 755");
    // A name Argo would read as a boolean is refused, with the fix.
    expect(() => Workflow.from_yaml(manifest("named-")`  entrypoint: main
  templates:
  - name: main
    inputs: {parameters: [{name: n, value: "1"}]}
    container: {image: busybox, command: [echo, hi]}
`)).toThrow('workflow manifest: line 8: name: n is the boolean false to Argo (YAML 1.1, as its yaml.v2 reads it), so the name would be "false" there; quote it: name: "n"');
    // The benchmark's own manifest (npm run bench, user-argo-fanout) is read so too.
    expect(() => Workflow.from_yaml(fs.readFileSync(path.join(root, "bench/user/project/fanout.yaml"), "utf8"))).not.toThrow();
  });

  it("gives each node Argo's boundaryID: the Steps or DAG node whose template it is part of", async () => {
    const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: bounds-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: inner, template: inner}
  - name: inner
    dag:
      tasks:
      - {name: leaf, template: leaf}
  - name: leaf
    retryStrategy: {limit: 1}
    container: {image: busybox, command: [sh, -c], args: ["true"]}
`);
    expect((await wf.submit()).phase).toBe("Succeeded");
    const nodes = Object.values(wf.status()!.nodes);
    const byName = (n: string) => nodes.find((x) => x.displayName === n)!;
    const main = nodes.find((x) => x.type === "Steps")!;
    const inner = byName("inner");
    expect(main.boundaryID).toBeUndefined();
    expect([byName("[0]").boundaryID, inner.boundaryID]).toEqual([main.id, main.id]);
    // A retried task and its attempt belong to the DAG's template.
    expect(inner.type).toBe("DAG");
    expect([byName("leaf").type, byName("leaf").boundaryID, byName("leaf(0)").boundaryID]).toEqual(["Retry", inner.id, inner.id]);
  });

  it("retryPolicy OnTransientError retries only a transient error: Argo's messages, or TRANSIENT_ERROR_PATTERN's", async () => {
    const manifest = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: transient-}
spec:
  entrypoint: flaky
  templates:
  - name: flaky
    retryStrategy: {limit: 2, retryPolicy: OnTransientError}
    container: {image: busybox, command: [sh, -c], args: ["exit 1"]}
`;
    const attempts = (wf: Workflow) => Object.values(wf.status()!.nodes).filter((n) => n.type === "Pod").length;
    const plain = Workflow.from_yaml(manifest);
    expect((await plain.submit()).phase).toBe("Failed");
    expect(attempts(plain)).toBe(1);
    process.env.TRANSIENT_ERROR_PATTERN = "exit code 1";
    try {
      const matched = Workflow.from_yaml(manifest);
      expect((await matched.submit()).phase).toBe("Failed");
      expect(attempts(matched)).toBe(3);
    } finally {
      delete process.env.TRANSIENT_ERROR_PATTERN;
    }
  });

  it("valueFrom.parameter names one variable, with or without braces (Argo trims them; dflow's export writes it bare)", async () => {
    const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: outref-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: inner, template: inner}
  - name: inner
    steps:
    - - {name: add, template: add}
    outputs:
      parameters:
      - {name: bare, valueFrom: {parameter: steps.add.outputs.parameters.sum}}
      - {name: braced, valueFrom: {parameter: "{{steps.add.outputs.parameters.sum}}"}}
  - name: add
    script: {image: busybox, command: [sh], source: "echo $((20 + 21)) > /tmp/sum"}
    outputs: {parameters: [{name: sum, valueFrom: {path: /tmp/sum}}]}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const inner = Object.values(wf.status()!.nodes).find((n) => n.displayName === "inner")!;
    expect(inner.outputs?.parameters).toEqual([
      { name: "bare", value: "41" },
      { name: "braced", value: "41" },
    ]);
  });

  it("refuses what it cannot run, in one line naming the field, before anything runs", () => {
    const both = PARAMS.replace("    container: {image: busybox,", "    resource: {action: create, manifest: 'kind: Job'}\n    container: {image: busybox,");
    expect(() => Workflow.from_yaml(both)).toThrow("invalid spec: templates.say multiple template types specified (container, resource): choose one");
    const resource = PARAMS.replace(`    container: {image: busybox, command: [sh, -c], args: ["echo '{{inputs.parameters.text}}' | tee /tmp/said"]}`, "    resource: {action: create, manifest: 'kind: Job'}");
    expect(() => Workflow.from_yaml(resource)).toThrow(/^templates\.say\.resource\.manifest is not supported when running Argo workflows locally: a resource template acts here on Argo Workflows only \(a workflow of workflows\); kind "Job" needs Kubernetes$/);
    expect(() => Workflow.from_yaml(PARAMS.replace("template: say\n        arguments: {parameters: [{name: text, value: \"got", "template: sya\n        arguments: {parameters: [{name: text, value: \"got"))).toThrow("invalid spec: templates.main.steps[1].use template name 'sya' undefined");
    const before = fs.readdirSync(work).length;
    expect(() => Workflow.from_yaml(PARAMS.replace("spec:", "spec:\n  volumes: [{name: v, nfs: {server: nas, path: /}}]"))).toThrow("spec.volumes.v is not supported when running Argo workflows locally: only configMap, secret, emptyDir, persistentVolumeClaim and hostPath volumes are (got nfs)");
    expect(fs.readdirSync(work).length).toBe(before);
    // YAML Argo's parser refuses too: the line, not a dangling "column 3:" (yaml's snippet follows it).
    expect(() => Workflow.from_yaml(PARAMS.replace("spec:\n", "spec:\n  entrypoint: again\n"))).toThrow(/invalid YAML: Map keys must be unique at line \d+, column 3 \("entrypoint: \w+"\)$/);
  });
});

const MOUNTED = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: mounted-}
spec:
  entrypoint: show
  templates:
  - name: show
    volumes: [{name: code, configMap: {name: code-abc}}]
    script:
      image: node:20
      command: [node]
      source: |
        const fs = require("node:fs");
        fs.writeFileSync("/tmp/seen", fs.readFileSync("/opt/code/greeting.txt", "utf8") + " " + process.version);
      volumeMounts: [{name: code, mountPath: /opt/code, readOnly: true}]
    outputs: {parameters: [{name: seen, valueFrom: {path: /tmp/seen}}]}
`;
const CODE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: code-abc}\ndata:\n  greeting.txt: hello from the ConfigMap\n";

describe("configMap volumes (what dflow export writes for TypeScript OPs)", () => {
  it("mount a ConfigMap given beside the Workflow or in templates as read-only files in the node's sandbox, run by this node", async () => {
    for (const wf of [Workflow.from_yaml(`${MOUNTED}---\n${CODE}`), Workflow.from_yaml(MOUNTED, { templates: [CODE] })]) {
      const r = await wf.submit();
      expect(r.phase).toBe("Succeeded");
      const [node] = Object.values(wf.status()!.nodes);
      expect(node.outputs?.parameters).toEqual([{ name: "seen", value: `hello from the ConfigMap ${process.version}` }]);
      // The entrypoint's node is the workflow's own: <workflow dir>/<id>.
      const file = path.join(work, r.id, r.id, "root", "opt", "code", "greeting.txt");
      expect(fs.readFileSync(file, "utf8")).toBe("hello from the ConfigMap");
      // Read-only by its mode (which root, and so this test's writes, would ignore).
      expect(fs.statSync(file).mode & 0o777).toBe(0o444);
      expect(fs.existsSync("/opt/code/greeting.txt")).toBe(false);
    }
  });

  it("refuse, before anything runs, a ConfigMap not given, other volume kinds and reshaped mounts, in one line", () => {
    const before = fs.readdirSync(work).length;
    expect(() => Workflow.from_yaml(MOUNTED)).toThrow(/^templates\.show\.volumes\.code needs ConfigMap code-abc, which is not given: pass the file that defines it \(dflow run wf\.yaml -t wf\.ops\.yaml/);
    expect(() => Workflow.from_yaml(MOUNTED.replace("configMap: {name: code-abc}", "nfs: {server: nas, path: /}"), { templates: [CODE] })).toThrow("templates.show.volumes.code is not supported when running Argo workflows locally: only configMap, secret, emptyDir, persistentVolumeClaim and hostPath volumes are (got nfs)");
    expect(() => Workflow.from_yaml(MOUNTED.replace("configMap: {name: code-abc}", "configMap: {name: code-abc, items: [{key: greeting.txt, path: g}]}"), { templates: [CODE] })).toThrow("templates.show.volumes.code.configMap.items is not supported when running Argo workflows locally: a ConfigMap is mounted whole");
    expect(() => Workflow.from_yaml(MOUNTED.replace("readOnly: true", "subPath: greeting.txt"), { templates: [CODE] })).toThrow("templates.show.script.volumeMounts.code.subPath is not supported when running Argo workflows locally: a ConfigMap is mounted whole");
    expect(() => Workflow.from_yaml(MOUNTED.replace("{name: code, mountPath", "{name: other, mountPath"), { templates: [CODE] })).toThrow("templates.show.script.volumeMounts.other names no volume of the template, of spec.volumes or of spec.volumeClaimTemplates");
    expect(fs.readdirSync(work).length).toBe(before);
  });
});

const VOLUMES = (host: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: volumes-}
spec:
  entrypoint: main
  volumeClaimTemplates: [{metadata: {name: work}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]
  volumes:
  - {name: shared, persistentVolumeClaim: {claimName: team-data}}
  - {name: host, hostPath: {path: ${host}}}
  templates:
  - name: main
    steps:
    - - {name: write, template: write, arguments: {parameters: [{name: v, value: one}]}}
      - {name: scratch, template: scratch}
    - - {name: read, template: read}
  - name: write
    inputs: {parameters: [{name: v}]}
    volumes: [{name: own, emptyDir: {}}]
    script:
      image: alpine
      command: [sh]
      source: |
        echo {{inputs.parameters.v}} > /mnt/work/v
        echo {{inputs.parameters.v}} >> /data/shared/log
        echo mine > /tmp/own/f
        echo sub > /mnt/work-sub/s
        echo host > ${host}/h
      volumeMounts:
      - {name: work, mountPath: /mnt/work}
      - {name: work, mountPath: /mnt/work-sub, subPath: deeper}
      - {name: shared, mountPath: /data/shared}
      - {name: own, mountPath: /tmp/own}
      - {name: host, mountPath: ${host}}
    outputs: {artifacts: [{name: v, path: /mnt/work/v}]}
  - name: scratch
    volumes: [{name: own, emptyDir: {}}]
    script: {image: alpine, command: [sh], source: "test ! -e /tmp/own/f && echo empty", volumeMounts: [{name: own, mountPath: /tmp/own}]}
  - name: read
    script:
      image: alpine
      command: [sh]
      source: "cat /mnt/w/v /mnt/w/deeper/s /data/shared/log"
      volumeMounts: [{name: work, mountPath: /mnt/w}, {name: shared, mountPath: /data/shared}]
`;

describe("directory volumes (volumeClaimTemplates, emptyDir, persistentVolumeClaim, hostPath)", () => {
  it("give a containerSet its emptyDir volumes, shared by its containers; another kind is refused", async () => {
    const yaml = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: workspace-}
spec:
  entrypoint: main
  templates:
  - name: main
    volumes: [{name: workspace, emptyDir: {}}]
    containerSet:
      containers:
      - {name: a, image: alpine, command: [sh, -c, "echo hi > /workspace/out"]}
      - {name: main, image: alpine, command: [cat, /workspace/out], dependencies: [a]}
      volumeMounts: [{name: workspace, mountPath: /workspace}]
    outputs: {parameters: [{name: out, valueFrom: {path: /workspace/out}}]}
`;
    const wf = Workflow.from_yaml(yaml);
    const r = await wf.submit();
    const pod = Object.values(wf.status()!.nodes).find((n) => n.type === "Pod")!;
    expect([r.phase, pod.outputs?.parameters?.[0]?.value]).toEqual(["Succeeded", "hi"]);
    expect(() => Workflow.from_yaml(yaml.replace("emptyDir: {}", "hostPath: {path: /srv}"))).toThrow("templates.main.volumes.workspace is not supported when running Argo workflows locally: a containerSet's volumes are emptyDir ones");
  });

  it("take a mount's volume name from the inputs when it is a tag, and fail the node that names none", async () => {
    const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: tag-volumes-}
spec:
  entrypoint: main
  volumeClaimTemplates: [{metadata: {name: v1}}, {metadata: {name: v2}}]
  templates:
  - name: main
    steps:
    - - {name: a, template: put, arguments: {parameters: [{name: vol, value: v1}]}}
      - {name: b, template: put, arguments: {parameters: [{name: vol, value: v2}]}}
      - {name: c, template: put, arguments: {parameters: [{name: vol, value: v9}]}, continueOn: {error: true}}
  - name: put
    inputs: {parameters: [{name: vol}]}
    script: {image: alpine, command: [sh], source: "echo {{inputs.parameters.vol}} > /mnt/vol/f", volumeMounts: [{name: "{{inputs.parameters.vol}}", mountPath: /mnt/vol}]}
`);
    const r = await wf.submit();
    const c = Object.values(wf.status()!.nodes).find((n) => n.displayName === "c")!;
    expect([r.phase, c.phase, c.message]).toEqual(["Succeeded", "Error", "volumeMounts.v9 names no volume of the template, of spec.volumes or of spec.volumeClaimTemplates"]);
    for (const v of ["v1", "v2"]) expect(fs.readFileSync(path.join(work, r.id, "volumes", v, "f"), "utf8")).toBe(`${v}\n`);
  });

  it("are directories of the workflow, the pod, the work directory and this machine, mounted where the pods see them", async () => {
    const host = fs.mkdtempSync(path.join(work, "host-"));
    const first = Workflow.from_yaml(VOLUMES(host));
    const r = await first.submit();
    const nodes = Object.values(first.status()!.nodes);
    const by = (d: string) => nodes.find((n) => n.displayName === d)!;
    expect([r.phase, by("write").message, by("read").message]).toEqual(["Succeeded", undefined, undefined]);
    // The claim template is the workflow's: the read step sees what write left, through its own mount path and subPath.
    expect(by("read").outputs?.result).toBe("one\nsub\none");
    expect(fs.readFileSync(path.join(work, r.id, "volumes", "work", "v"), "utf8")).toBe("one\n");
    // emptyDir: each pod its own.
    expect(by("scratch").outputs?.result).toBe("empty");
    expect(fs.readFileSync(path.join(work, r.id, by("write").id, "volumes", "own", "f"), "utf8")).toBe("mine\n");
    expect(fs.readFileSync(path.join(host, "h"), "utf8")).toBe("host\n");
    // An output artifact read from a volume.
    expect(fs.readFileSync(path.join(work, ".argo-artifacts", by("write").outputs!.artifacts![0]!.key!), "utf8")).toBe("one\n");
    // An existing claim is the work directory's: a second workflow appends to what the first wrote.
    const second = Workflow.from_yaml(VOLUMES(host));
    const r2 = await second.submit();
    expect(r2.phase).toBe("Succeeded");
    expect(fs.readFileSync(path.join(work, ".argo-volumes", "team-data", "log"), "utf8")).toBe("one\none\n");
    expect(Object.values(second.status()!.nodes).find((n) => n.displayName === "read")!.outputs?.result).toBe("one\nsub\none\none");
  });
});

describe("semaphores (a limit from a ConfigMap given locally)", () => {
  it("let at most the limit of pods hold it, and are refused in one line when the ConfigMap is not given", async () => {
    const shared = fs.mkdtempSync(path.join(work, "sem-"));
    fs.mkdirSync(path.join(shared, "running"));
    const wf = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: semaphore-}
spec:
  entrypoint: main
  volumes: [{name: shared, hostPath: {path: ${shared}}}]
  templates:
  - name: main
    steps:
    - - {name: work, template: work, withItems: [a, b, c, d, e, f], arguments: {parameters: [{name: i, value: "{{item}}"}]}}
  - name: work
    inputs: {parameters: [{name: i}]}
    synchronization: {semaphores: [{configMapKeyRef: {name: limits, key: work}}]}
    script:
      image: alpine
      command: [sh]
      # Each pod counts who holds the semaphore with it: never more than the limit, however slow the machine.
      source: "mkdir /shared/running/{{inputs.parameters.i}}; ls /shared/running | wc -l > /shared/seen-{{inputs.parameters.i}}; sleep 0.2; rmdir /shared/running/{{inputs.parameters.i}}"
      volumeMounts: [{name: shared, mountPath: /shared}]
`;
    const limits = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits}\ndata: {work: \"2\"}\n";
    expect(() => Workflow.from_yaml(wf)).toThrow(/^templates\.work\.synchronization\.semaphores\[0\] needs ConfigMap limits with key work for its limit, which is not given: pass the file that defines it/);
    expect(() => Workflow.from_yaml(wf, { templates: [limits.replace('"2"', '"two"')] })).toThrow('templates.work.synchronization.semaphores[0] limit "two" (ConfigMap limits, key work) is not a positive integer');
    const r = await Workflow.from_yaml(wf, { templates: [limits] }).submit();
    expect(r.phase).toBe("Succeeded");
    const seen = ["a", "b", "c", "d", "e", "f"].map((i) => Number(fs.readFileSync(path.join(shared, `seen-${i}`), "utf8")));
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(1);
  });
});

describe("database locks (Argo's multi-controller locks: one controller here, the limit table given)", () => {
  const LOCKS = (shared: string, sync: string) => manifest("db-locks-")`
  entrypoint: main
  volumes: [{name: shared, hostPath: {path: ${shared}}}]
  templates:
  - name: main
    steps:
    - - {name: work, template: work, withItems: [a, b, c, d, e], arguments: {parameters: [{name: i, value: "{{item}}"}]}}
  - name: work
    inputs: {parameters: [{name: i}]}
    synchronization: ${sync}
    script:
      image: alpine
      command: [sh]
      source: "mkdir /shared/running/{{inputs.parameters.i}}; ls /shared/running | wc -l > /shared/seen-{{inputs.parameters.i}}; sleep 0.2; rmdir /shared/running/{{inputs.parameters.i}}"
      volumeMounts: [{name: shared, mountPath: /shared}]
`;
  const seen = (shared: string) => ["a", "b", "c", "d", "e"].map((i) => Number(fs.readFileSync(path.join(shared, `seen-${i}`), "utf8")));
  const sharedDir = () => {
    const shared = fs.mkdtempSync(path.join(work, "db-"));
    fs.mkdirSync(path.join(shared, "running"));
    return shared;
  };

  it("a database semaphore takes its size from the limit table (sync_limits, `dflow run --sync-limit`), refused in one line without it", async () => {
    const shared = sharedDir();
    const wf = LOCKS(shared, "{semaphores: [{database: {key: work}}]}");
    expect(() => Workflow.from_yaml(wf)).toThrow(
      "templates.work.synchronization.semaphores[0].database has no limit: none is given for database semaphore argo/work (Argo's sync_limit table): give it with `dflow run wf.yaml --sync-limit argo/work=N`, or on dflow server with `argo sync create work --type database --limit N` (POST /api/v1/sync/argo)",
    );
    // A row of another namespace is not this workflow's.
    expect(() => Workflow.from_yaml(wf, { sync_limits: { "team/work": 2 } })).toThrow(/database semaphore argo\/work/);
    const r = await Workflow.from_yaml(wf, { sync_limits: { work: 2 } }).submit();
    expect(r.phase).toBe("Succeeded");
    expect(Math.max(...seen(shared))).toBeLessThanOrEqual(2);
    expect(Math.min(...seen(shared))).toBeGreaterThanOrEqual(1);
    // A key named by a tag is looked up when the template runs, its inputs resolved.
    const tagged = LOCKS(sharedDir(), "{semaphores: [{database: {key: 'row-{{inputs.parameters.i}}'}}]}");
    expect((await Workflow.from_yaml(tagged, { sync_limits: { "row-a": 1, "row-b": 1, "row-c": 1, "row-d": 1, "row-e": 1 } }).submit()).phase).toBe("Succeeded");
    const short = Workflow.from_yaml(tagged, { sync_limits: { "row-a": 1 } });
    expect((await short.submit()).phase).not.toBe("Succeeded");
    const b = Object.values(short.status()!.nodes).find((n) => n.displayName === "work(1:b)")!;
    expect([b.phase, b.message]).toEqual(["Error", expect.stringContaining("has no limit: none is given for database semaphore argo/row-b")]);
  });

  it("a lock named twice is held once, and locks carry Argo's names", () => {
    const wf = { metadata: { namespace: "team" }, configMaps: new Map(), syncLimits: new Map([["team/rows", 3]]) };
    const locks = syncLocks({ mutexes: [{ name: "a" }, { name: "a" }, { name: "a", database: true }], semaphores: [{ database: { key: "rows" } }] }, wf);
    // In the order they are taken (by id), so that two holders never wait for each other.
    expect(locks.map((l) => [l.name, l.dbKey, l.limit])).toEqual([
      ["team/Database/a", "mtx/team/a", 1],
      ["team/Database/rows", "sem/team/rows", 3],
      ["team/Mutex/a", undefined, 1],
    ]);
  });

  it("a database mutex has one holder at a time", async () => {
    const shared = sharedDir();
    const r = await Workflow.from_yaml(LOCKS(shared, "{mutexes: [{name: work, database: true}]}")).submit();
    expect(r.phase).toBe("Succeeded");
    expect(seen(shared)).toEqual([1, 1, 1, 1, 1]);
  });

  it("are other locks than a ConfigMap-less mutex of the same name, and a mutex of another namespace is another mutex", async () => {
    const shared = fs.mkdtempSync(path.join(work, "meet-"));
    // Three pods, each holding a mutex named m, wait for each other: they end only if none of them waits for another's mutex.
    const wf = manifest("db-locks-")`
  entrypoint: main
  volumes: [{name: shared, hostPath: {path: ${shared}}}]
  templates:
  - name: main
    steps:
    - - {name: local, template: local}
      - {name: database, template: database}
      - {name: other-namespace, template: other-namespace}
  - {name: local, synchronization: {mutexes: [{name: m}]}, script: &meet {image: alpine, command: [sh], source: "touch /shared/{{pod.name}}; for i in $(seq 1200); do [ $(ls /shared | wc -l) = 3 ] && exit 0; sleep 0.1; done; exit 1", volumeMounts: [{name: shared, mountPath: /shared}]}}
  - {name: database, synchronization: {mutexes: [{name: m, database: true}]}, script: *meet}
  - {name: other-namespace, synchronization: {mutexes: [{name: m, namespace: elsewhere}]}, script: *meet}
`;
    const r = await Workflow.from_yaml(wf).submit();
    expect(r.phase).toBe("Succeeded");
    expect(fs.readdirSync(shared).length).toBe(3);
  });

  it("a holder that waits is Pending with Argo's message: a node for a template's lock, the workflow for a workflow's", async () => {
    const shared = fs.mkdtempSync(path.join(work, "wait-"));
    const HOLD = (sync: string, steps: string) => manifest("hold-")`
  entrypoint: main
  ${sync}
  volumes: [{name: shared, hostPath: {path: ${shared}}}]
  templates:
  - name: main
    steps:
    - ${steps}
  - name: hold
    synchronization: {mutexes: [{name: m}]}
    script: &hold {image: alpine, command: [sh], source: "touch /shared/held-{{pod.name}}; while [ ! -e /shared/go ]; do sleep 0.05; done", volumeMounts: [{name: shared, mountPath: /shared}]}
  - {name: free, script: *hold}
`;
    // Two steps in parallel want the template's mutex: one runs, the other waits, Pending.
    const steps = Workflow.from_yaml(HOLD("", "[{name: a, template: hold}, {name: b, template: hold}]"));
    const first = steps.submit();
    const waiting = await until("a node waiting for the mutex", () => steps.id && Object.values(steps.status()?.nodes ?? {}).find((n) => n.phase === "Pending"));
    expect(waiting.message).toBe("Waiting for argo/Mutex/m lock. Lock status: 0/1");
    // A workflow-level database mutex: the second workflow waits, Pending, until the first ends.
    const owner = Workflow.from_yaml(HOLD("synchronization: {mutexes: [{name: w, database: true}]}", "[{name: a, template: free}]"));
    const second = Workflow.from_yaml(HOLD("synchronization: {mutexes: [{name: w, database: true}]}", "[{name: a, template: free}]"));
    const ran = owner.submit();
    await until("the first workflow's pod", () => owner.id && fs.readdirSync(shared).filter((f) => f.startsWith("held-")).length === 2);
    const after = second.submit();
    const pending = await until("the second workflow waiting", () => second.id && second.status()?.phase === "Pending" && second.status());
    expect(pending.message).toBe("Waiting for argo/Database/w lock (mtx/argo/w). Lock status: 1/1");
    fs.writeFileSync(path.join(shared, "go"), "");
    const results = await Promise.all([first, ran, after]);
    expect(results.map((r) => r.phase)).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    // Once it holds the lock, the waiting node runs, and its message is gone.
    const b = Object.values(steps.status()!.nodes).find((n) => n.id === waiting.id)!;
    expect([b.phase, b.message]).toEqual(["Succeeded", undefined]);
  });

  it("a template's timeout counts its node's wait for a lock, as Argo's does: a node still Pending past it fails, `timeout`, and takes no lock", async () => {
    const shared = fs.mkdtempSync(path.join(work, "locktimeout-"));
    const wf = Workflow.from_yaml(manifest("lock-timeout-")`
  entrypoint: main
  volumes: [{name: shared, hostPath: {path: ${shared}}}]
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: hold}
      - {name: held, template: held}
      - {name: b, template: hold, dependencies: [held], arguments: {parameters: [{name: timeout, value: 1s}]}, continueOn: {failed: true}}
  - name: hold
    inputs: {parameters: [{name: timeout, value: 1h}]}
    timeout: "{{inputs.parameters.timeout}}"
    synchronization: {mutexes: [{name: m}]}
    script: {image: alpine, command: [sh], source: "touch /shared/held-{{pod.name}}; while [ ! -e /shared/go ]; do sleep 0.05; done", volumeMounts: [{name: shared, mountPath: /shared}]}
  - name: held
    script: {image: alpine, command: [sh], source: "while ! ls /shared | grep -q held-; do sleep 0.05; done", volumeMounts: [{name: shared, mountPath: /shared}]}
`);
    // a holds the mutex until the test says go; b, started once a holds it, wants it with a timeout of 1s and fails while still waiting.
    const ran = wf.submit();
    const failed = await until("b failed while waiting for the mutex", () => wf.id && Object.values(wf.status()?.nodes ?? {}).find((n) => n.displayName === "b" && n.phase === "Failed"));
    expect(failed.message).toBe("timeout");
    // It never ran (no pod of its own), and holds nothing: a later holder gets the mutex.
    expect(fs.readdirSync(shared).filter((f) => f.startsWith("held-"))).toHaveLength(1);
    fs.writeFileSync(path.join(shared, "go"), "");
    expect((await ran).phase).toBe("Succeeded");
    const again = Workflow.from_yaml(manifest("lock-after-")`
  entrypoint: hold
  templates:
  - name: hold
    timeout: 1h
    synchronization: {mutexes: [{name: m}]}
    script: {image: alpine, command: [sh], source: "true"}
`);
    expect((await again.submit()).phase).toBe("Succeeded");
  });

  it("a lowered limit holds the next holder back while the old limit's holders run (one semaphore, the newest limit)", async () => {
    const shared = fs.mkdtempSync(path.join(work, "lowered-"));
    const HELD = manifest("held-")`  entrypoint: hold
  volumes: [{name: shared, hostPath: {path: ${shared}}}]
  templates:
  - name: hold
    synchronization: {semaphores: [{database: {key: rows}}]}
    script: {image: alpine, command: [sh], source: "touch /shared/held-{{pod.name}}; while [ ! -e /shared/go ]; do sleep 0.05; done", volumeMounts: [{name: shared, mountPath: /shared}]}
`;
    const first = Workflow.from_yaml(HELD, { sync_limits: { rows: 2 } });
    const ran = first.submit();
    await until("the first holder", () => fs.readdirSync(shared).some((f) => f.startsWith("held-")));
    // Created after the limit went down to 1: it waits, though the first took the semaphore under 2.
    const second = Workflow.from_yaml(HELD, { sync_limits: { rows: 1 } });
    const after = second.submit();
    const waiting = await until("the second holder waiting", () => second.id && Object.values(second.status()?.nodes ?? {}).find((n) => n.phase === "Pending"));
    expect(waiting.message).toBe("Waiting for argo/Database/rows lock (sem/argo/rows). Lock status: 1/1");
    fs.writeFileSync(path.join(shared, "go"), "");
    expect((await Promise.all([ran, after])).map((r) => r.phase)).toEqual(["Succeeded", "Succeeded"]);
  });

  it("`dflow run --sync-limit` gives the limit table; a malformed one is one line", async () => {
    const shared = sharedDir();
    const file = path.join(shared, "..", `${path.basename(shared)}.yaml`);
    fs.writeFileSync(file, LOCKS(shared, "{semaphores: [{database: {key: work}}]}"));
    const bad = await execa("node", [cli, "run", file, "--sync-limit", "work=two"], { cwd: work, reject: false });
    expect([bad.exitCode, bad.stderr.trim()]).toEqual([2, "dflow: --sync-limit work=two: the limit must be a positive integer"]);
    const missing = await execa("node", [cli, "run", file], { cwd: work, reject: false });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("has no limit: none is given for database semaphore argo/work");
    const ok = await execa("node", [cli, "run", file, "--sync-limit", "argo/work=2"], { cwd: work, reject: false });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(Math.max(...seen(shared))).toBeLessThanOrEqual(2);
  });
});

describe("Secrets given locally (env, envFrom, volumes)", () => {
  it("give their keys as Kubernetes does: data decoded from base64, stringData as it is, files of a secret volume", async () => {
    const secret = `apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ndata: {user: ${Buffer.from("alice").toString("base64")}}\nstringData: {pass: s3cret}\n`;
    const wf = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: secrets-}
spec:
  entrypoint: main
  volumes: [{name: creds, secret: {secretName: creds}}]
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c]
      args: ['echo "$USER_NAME $S_pass $(cat /etc/creds/user)"']
      env: [{name: USER_NAME, valueFrom: {secretKeyRef: {name: creds, key: user}}}]
      envFrom: [{prefix: S_, secretRef: {name: creds}}]
      volumeMounts: [{name: creds, mountPath: /etc/creds}]
`;
    expect(() => Workflow.from_yaml(wf)).toThrow(/^spec\.volumes\.creds needs Secret creds, which is not given: /);
    const run = Workflow.from_yaml(wf, { templates: [secret] });
    const r = await run.submit();
    expect([r.phase, Object.values(run.status()!.nodes)[0]!.outputs?.result]).toEqual(["Succeeded", "alice s3cret alice"]);
  });
});

describe("values from a ConfigMap given locally (parameters, env, envFrom)", () => {
  it("fill workflow and input parameters, env and envFrom as Kubernetes would; a secret, or a ConfigMap not given, is refused in one line", async () => {
    const wf = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: from-configmap-}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: greeting, valueFrom: {configMapKeyRef: {name: settings, key: greeting}}}]
  templates:
  - name: main
    inputs:
      parameters:
      - {name: who, valueFrom: {configMapKeyRef: {name: settings, key: who}}}
      - {name: absent, valueFrom: {configMapKeyRef: {name: settings, key: nope}, default: fallback}}
    container:
      image: alpine
      command: [sh, -c]
      args: ['echo "{{workflow.parameters.greeting}} {{inputs.parameters.who}} {{inputs.parameters.absent}} $ONE $CFG_who $CFG_greeting"']
      env: [{name: ONE, valueFrom: {configMapKeyRef: {name: settings, key: who}}}, {name: CFG_who, value: overridden}]
      envFrom: [{prefix: CFG_, configMapRef: {name: settings}}]
`;
    const settings = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {greeting: hello, who: world}\n";
    expect(() => Workflow.from_yaml(wf)).toThrow(/^spec\.arguments\.parameters\.greeting\.valueFrom\.configMapKeyRef needs ConfigMap settings, which is not given: pass the file that defines it/);
    expect(() => Workflow.from_yaml(wf.replace("configMapRef: {name: settings}", "secretRef: {name: s}"), { templates: [settings] })).toThrow(/^templates\.main\.container\.envFrom\[0\]\.secretRef needs Secret s, which is not given: .*POST \/api\/v1\/namespaces\/<namespace>\/secrets\)$/);
    expect(() => Workflow.from_yaml(wf.replace("configMapKeyRef: {name: settings, key: who}}}, {name: CFG_who", "fieldRef: {fieldPath: metadata.name}}}, {name: CFG_who"), { templates: [settings] })).toThrow("templates.main.container.env.ONE.valueFrom.fieldRef is not supported when running Argo workflows locally: field references need Kubernetes; give the value, or a ConfigMap's or Secret's key");
    const run = Workflow.from_yaml(wf, { templates: [settings] });
    const r = await run.submit();
    const node = Object.values(run.status()!.nodes)[0]!;
    expect([r.phase, node.outputs?.result]).toEqual(["Succeeded", "hello world fallback world overridden hello"]);
  });
});

describe("data templates (Argo's executor's, run by this process)", () => {
  it("list the keys under a location of the local repository, transform them with expressions, and fan out over the result", async () => {
    const wf = Workflow.from_yaml(manifest("data-")`  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: write, template: write}
    - - {name: list, template: list}
    - - {name: each, template: show, withParam: "{{steps.list.outputs.result}}", arguments: {artifacts: [{name: f, s3: {key: "{{item}}"}}]}}
  - name: write
    script: {image: alpine, command: [sh], source: "mkdir -p /tmp/logs; echo a > /tmp/logs/a-main.log; echo b > /tmp/logs/b.txt; echo c > /tmp/logs/c-main.log"}
    outputs: {artifacts: [{name: logs, path: /tmp/logs, s3: {key: "{{workflow.name}}/logs"}, archive: {none: {}}}]}
  - name: list
    data:
      source: {artifactPaths: {name: logs, s3: {key: "{{workflow.name}}"}}}
      transformation:
      - expression: 'filter(data, {# endsWith "main.log"})'
      - expression: 'map(data, {# + ""})'
  - name: show
    inputs: {artifacts: [{name: f, path: /tmp/f}]}
    script: {image: alpine, command: [sh], source: "cat /tmp/f"}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const nodes = Object.values(wf.status()!.nodes);
    const list = nodes.find((n) => n.displayName === "list")!;
    expect([list.type, list.outputs?.result]).toEqual(["Pod", JSON.stringify([`${r.id}/logs/a-main.log`, `${r.id}/logs/c-main.log`])]);
    expect(nodes.filter((n) => n.templateName === "show").map((n) => n.outputs?.result).sort()).toEqual(["a", "c"]);
  });

  it("are refused, in one line, for a source or a location this run cannot list; a transformation that fails is the node's Error", async () => {
    const data = (d: string) => manifest("data-")`  entrypoint: list
  templates:
  - name: list
    data: ${d}
`;
    expect(() => Workflow.from_yaml(data("{source: {artifactPaths: {name: x, gcs: {bucket: b, key: k}}}}"))).toThrow("templates.list.data.source.artifactPaths.gcs is not supported when running Argo workflows locally");
    expect(() => Workflow.from_yaml(data("{source: {artifactPaths: {name: x, s3: {bucket: my-bucket}}}}"))).toThrow("templates.list.data.source.artifactPaths.s3.bucket is not supported when running Argo workflows locally: the local default repository has only keys");
    expect(() => Workflow.from_yaml(data("{source: {artifactPaths: {name: x, s3: {key: k}}}, transformation: [{expression: 'filter(data'}]}"))).toThrow(/^invalid spec: templates\.list\.data\.transformation\[0\]\.expression: /);
    const bad = Workflow.from_yaml(data("{source: {artifactPaths: {name: x, s3: {key: nothing-here}}}, transformation: [{expression: 'len(data) > 0 ? data : data.missing'}]}"));
    expect((await bad.submit()).phase).toBe("Error");
    const [node] = Object.values(bad.status()!.nodes);
    expect(node!.message).toMatch(/^unable to process data transformation: error processing data step 0: /);
  });
});

describe("HTTP templates (requests from this process, as Argo's agent makes them)", () => {
  it("send the request, give the body as the result, and succeed by successCondition or a 2xx status; a request that fails says why", async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        seen.push(`${req.method} ${req.url} ${req.headers["x-token"] ?? ""} ${body}`);
        if (req.url === "/missing") return void res.writeHead(404).end("no such thing");
        res.writeHead(req.method === "POST" ? 201 : 200, { "Content-Type": "application/json" }).end(JSON.stringify({ got: body || req.url }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: http-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: base, value: "${base}"}]}
  templates:
  - name: main
    steps:
    - - name: post
        template: post
        arguments: {parameters: [{name: msg, value: hello}]}
    - - name: get
        template: get
        arguments: {parameters: [{name: path, value: "/items?x={{=jsonpath(steps.post.outputs.result, '$.got')}}"}]}
      - {name: missing, template: get, arguments: {parameters: [{name: path, value: /missing}]}, continueOn: {failed: true}}
  - name: post
    inputs: {parameters: [{name: msg}]}
    http:
      url: "{{workflow.parameters.base}}/items"
      method: POST
      headers: [{name: X-Token, value: t0k}]
      body: "{{inputs.parameters.msg}}"
      successCondition: "response.statusCode == 201 && response.body contains 'hello'"
  - name: get
    inputs: {parameters: [{name: path}]}
    http: {url: "{{workflow.parameters.base}}{{inputs.parameters.path}}"}
`);
      const r = await wf.submit();
      const nodes = Object.values(wf.status()!.nodes);
      const by = (d: string) => nodes.find((n) => n.displayName === d)!;
      expect([r.phase, by("post").type, by("post").outputs?.result, by("get").outputs?.result]).toEqual(["Succeeded", "HTTP", '{"got":"hello"}', '{"got":"/items?x=hello"}']);
      expect([by("missing").phase, by("missing").message]).toEqual(["Failed", "received non-2xx response code: 404"]);
      expect(seen).toContain("POST /items t0k hello");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    // The server is gone: the request cannot be made, and the node says why.
    const gone = await Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: http-gone-}
spec:
  entrypoint: get
  templates: [{name: get, http: {url: "${base}/x", timeoutSeconds: 20}}]
`).submit();
    expect(gone.phase).toBe("Failed");
    expect(gone.message).toMatch(new RegExp(`^GET ${base}/x: .*ECONNREFUSED`));
    expect(() => Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: http-}
spec:
  entrypoint: get
  templates: [{name: get, http: {url: "https://example.com", insecureSkipVerify: true}}]
`)).toThrow("templates.get.http.insecureSkipVerify is not supported when running Argo workflows locally: TLS checks are not skipped here; trust the server's certificate instead (NODE_EXTRA_CA_CERTS)");
  });
});

// A path the program builds at run time, as Hera's runner does (it writes
// /tmp/hera-outputs/..., set when it imports the user's module): no literal
// for the sandbox's rewriting to move. `d=/t; ${d}mp` is /tmp to sh alone.
const BUILT = (name: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: built-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: make, template: make, withItems: [a, b, c], arguments: {parameters: [{name: v, value: "{{item}}"}]}}
      - {name: one, template: make, arguments: {parameters: [{name: v, value: d}]}}
    - - {name: read, template: read, arguments: {artifacts: [{name: in, from: "{{steps.one.outputs.artifacts.out}}"}]}}
  - name: make
    inputs: {parameters: [{name: v}]}
    script: {image: busybox, command: [sh], source: "d=/t; mkdir -p \${d}mp/${name}; echo {{inputs.parameters.v}} > \${d}mp/${name}/v"}
    outputs:
      parameters: [{name: v, valueFrom: {path: /tmp/${name}/v}}]
      artifacts: [{name: out, path: /tmp/${name}}]
  - name: read
    inputs: {artifacts: [{name: in, path: /tmp/in}]}
    script: {image: busybox, command: [sh], source: "d=/t; cat \${d}mp/in/v"}
`;

describe("what dflow's Python client sends (default mode)", () => {
  it("unpacks an uploaded tarball input as Argo's executor does, keeps other files, and leaves an expression it cannot resolve as it is", async () => {
    const repo = path.join(work, ".argo-artifacts", "up");
    const src = fs.mkdtempSync(path.join(work, "src-"));
    fs.mkdirSync(path.join(src, "data"));
    fs.writeFileSync(path.join(src, "data", "a.txt"), "A");
    fs.writeFileSync(path.join(src, "x"), "X");
    fs.writeFileSync(path.join(src, "y"), "Y");
    fs.mkdirSync(repo, { recursive: true });
    tar.c({ gzip: true, sync: true, file: path.join(repo, "one.tgz"), cwd: src }, ["data"]);
    tar.c({ gzip: true, sync: true, file: path.join(repo, "two.tgz"), cwd: src }, ["x", "y"]);
    fs.copyFileSync(path.join(repo, "one.tgz"), path.join(repo, "kept.tgz"));
    fs.writeFileSync(path.join(repo, "plain.gz"), zlib.gzipSync("just gzip"));
    const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: unpack-}
spec:
  entrypoint: main
  volumeClaimTemplates: []
  templates:
  - name: main
    sidecars: []
    inputs:
      parameters: [{name: where, value: inner}]
      artifacts:
      - {name: one, path: "/tmp/in/{{inputs.parameters.where}}", s3: {key: up/one.tgz}}
      - {name: two, path: /tmp/two, s3: {key: up/two.tgz}}
      - {name: kept, path: /tmp/kept.tgz, s3: {key: up/kept.tgz}, archive: {none: {}}}
      - {name: plain, path: /tmp/plain.gz, s3: {key: up/plain.gz}}
    script:
      image: python:3.8
      command: [sh]
      source: |
        cat /tmp/in/inner/a.txt /tmp/two/x /tmp/two/y; echo
        test -f /tmp/kept.tgz && test -f /tmp/plain.gz && echo files kept
        echo '{{=inputs.parameters.dflow_key}}'
`);
    const r = await wf.submit();
    const node = Object.values(wf.status()!.nodes).find((n) => n.displayName === r.id)!;
    expect([r.phase, node.message]).toEqual(["Succeeded", undefined]);
    expect(node.outputs?.result).toBe("AXY\nfiles kept\n{{=inputs.parameters.dflow_key}}");
    // The artifact (not the pod's path, which an expression may read) is what was placed.
    expect(node.inputs?.artifacts?.find((a) => a.name === "one")).toEqual({ name: "one", path: "/tmp/in/inner", key: "up/one.tgz" });
  });

  it("names an output's default key after its path, keeps parameter descriptions, and reports the progress pods write to ARGO_PROGRESS_FILE", async () => {
    const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: progress-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: done, template: report, arguments: {parameters: [{name: p, value: "3/7"}, {name: code, value: "0"}]}}
      - {name: stuck, template: report, arguments: {parameters: [{name: p, value: "2/5"}, {name: code, value: "1"}]}, continueOn: {failed: true}}
  - name: report
    inputs: {parameters: [{name: p, description: '{"type": "str"}'}, {name: code}]}
    script:
      image: alpine
      command: [sh]
      source: 'echo {{inputs.parameters.p}} > "$ARGO_PROGRESS_FILE"; echo out > /tmp/out.txt; exit {{inputs.parameters.code}}'
    outputs:
      parameters: [{name: said, value: "{{inputs.parameters.p}}", description: '{"type": "str"}'}]
      artifacts: [{name: file, path: /tmp/out.txt}]
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const st = wf.status()!;
    const byName = (d: string) => Object.values(st.nodes).find((n) => n.displayName === d)! as (typeof st.nodes)[string] & { progress?: string };
    // A pod that succeeded is complete whatever it last wrote; one that failed stays where it got; parents add up.
    expect([byName("done").progress, byName("stuck").progress, byName(r.id).progress, st.progress]).toEqual(["7/7", "2/5", "9/12", "9/12"]);
    const done = byName("done");
    expect(done.inputs?.parameters?.[0]).toEqual({ name: "p", value: "3/7", description: '{"type": "str"}' });
    expect(done.outputs?.parameters).toEqual([{ name: "said", value: "3/7", description: '{"type": "str"}' }]);
    const key = done.outputs!.artifacts![0]!.key!;
    expect(key).toBe(`${r.id}/${done.id}/file/out.txt`);
    expect(fs.readFileSync(path.join(work, ".argo-artifacts", key), "utf8")).toBe("out\n");
  });
});

// The namespace is Linux's (unshare, a user namespace for users other than root): CI has it.
const namespaces = mountNamespace() !== null;
describe.skipIf(!namespaces && !process.env.CI)("paths built at run time (a mount namespace per pod)", () => {
  it("land in the node's own /tmp, for outputs and inputs alike: parallel items keep theirs and the host's /tmp is untouched", async () => {
    const name = `dflow-built-${process.pid}-${Date.now()}`;
    const wf = Workflow.from_yaml(BUILT(name));
    const r = await wf.submit();
    expect(r.phase, JSON.stringify(Object.values(wf.status()!.nodes).map((n) => [n.displayName, n.phase, n.message]))).toBe("Succeeded");
    const nodes = Object.values(wf.status()!.nodes);
    const made = nodes.filter((n) => /^make\(/.test(n.displayName)).map((n) => n.outputs?.parameters?.[0]?.value).sort();
    expect(made).toEqual(["a", "b", "c"]);
    // The read step got one's artifact at /tmp/in, and read it through a path it built.
    expect(nodes.find((n) => n.displayName === "read")!.outputs?.result).toBe("d");
    expect(fs.existsSync(`/tmp/${name}`)).toBe(false);
    // The mount points that bound the work directory back in are gone from the nodes' own /tmp.
    expect(work.startsWith("/tmp/")).toBe(true);
    for (const s of queryStepsIn(r.id, path.join(work, r.id), { name: "make" })) expect(fs.readdirSync(path.join(s.dir, "root", "tmp"))).toEqual([name]);
  });

  it("are the container's paths in what the pod prints and passes on: its result, its output values and {{outputs.parameters.x.path}} name /tmp/..., not the node's directory", async () => {
    const wf = Workflow.from_yaml(manifest("container-paths-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: write, template: write}
    - - name: show
        template: show
        arguments: {parameters: [{name: where, value: "{{steps.write.outputs.parameters.where}}"}]}
  - name: write
    outputs: {parameters: [{name: where, valueFrom: {path: /tmp/where.txt}}]}
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo /tmp/where.txt > /tmp/where.txt; echo {{outputs.parameters.where.path}} /mnt/x"]
  - name: show
    inputs: {parameters: [{name: where}]}
    container: {image: alpine, command: [sh, -c, "test -e {{inputs.parameters.where}} && echo there || echo not here"]}
`);
    const r = await wf.submit();
    const nodes = Object.values(wf.status()!.nodes);
    const node = (d: string) => nodes.find((n) => n.displayName === d)!;
    expect([r.phase, node("write").outputs?.result, node("write").outputs?.parameters?.[0]?.value]).toEqual(["Succeeded", "/tmp/where.txt /mnt/x", "/tmp/where.txt"]);
    // show's own /tmp has no where.txt, as another pod's has not.
    expect(node("show").outputs?.result).toBe("not here");
  });

  it("mount a volume at its path, as a container sees it: in /proc/mounts, and written through a built path", async () => {
    const wf = Workflow.from_yaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: built-vol-}
spec:
  entrypoint: main
  volumeClaimTemplates: [{metadata: {name: work}}]
  templates:
  - name: main
    steps:
    - - {name: w, template: w}
    - - {name: r, template: r}
  - name: w
    script: {image: alpine, command: [sh], source: "d=/m; echo built > \${d}nt/vol/b; grep -c ' /mnt/vol ' /proc/mounts", volumeMounts: [{name: work, mountPath: /mnt/vol}]}
  - name: r
    script: {image: alpine, command: [sh], source: "cat /mnt/x/b", volumeMounts: [{name: work, mountPath: /mnt/x}]}
`);
    const r = await wf.submit();
    const nodes = Object.values(wf.status()!.nodes);
    expect([r.phase, nodes.find((n) => n.displayName === "w")!.outputs?.result, nodes.find((n) => n.displayName === "r")!.outputs?.result]).toEqual(["Succeeded", "1", "built"]);
  });
});

// A root of its own for every pod (rootfs.ts): this machine's directories as overlays whose upper
// layers are the node's. Linux's overlayfs in the pod's namespace: CI has it.
const ownRoots = namespaces && rootLayers(mountNamespace()!, os.tmpdir(), PRIVATE_ROOTS).layers !== null;
describe.skipIf(!ownRoots && !process.env.CI)("a pod's root of its own (this machine's, copy-on-write)", () => {
  it("keeps what a pod writes anywhere in its node: outputs are read from there, the next pod and this machine do not see it, a ConfigMap under /etc is the node's; the pod starts in its workingDir", async () => {
    const name = `dflow-own-root-${process.pid}-${Date.now()}`;
    const wf = Workflow.from_yaml(manifest("own-root-")`  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: write, template: write}
    - - {name: read, template: read, arguments: {parameters: [{name: a, value: "{{steps.write.outputs.parameters.a}}"}]}}
  - name: write
    volumes: [{name: cfg, configMap: {name: settings-${name}}}]
    script:
      image: alpine
      workingDir: /src
      command: [sh]
      source: |
        d=/; echo built > ${"$"}{d}${name}
        mkdir -p /etc/${name}/made && echo conf > /etc/${name}/made/conf
        pwd; cat /etc/${name}/config/who
      volumeMounts: [{name: cfg, mountPath: /etc/${name}/config}]
    outputs:
      parameters: [{name: a, valueFrom: {path: /${name}}}]
      artifacts: [{name: conf, path: /etc/${name}/made}]
  - name: read
    inputs: {parameters: [{name: a}]}
    script: {image: alpine, command: [sh], source: "echo {{inputs.parameters.a}}; test -e /${name} && echo seen || echo unseen; test -e /etc/${name} && echo seen || echo unseen; pwd"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings-${name}}
data: {who: world}
`);
    try {
      const r = await wf.submit();
      const nodes = Object.values(wf.status()!.nodes);
      const node = (d: string) => nodes.find((n) => n.displayName === d)!;
      expect([r.phase, node("write").message]).toEqual(["Succeeded", undefined]);
      expect(node("write").outputs?.result).toBe("/src\nworld");
      expect(node("write").outputs?.parameters).toEqual([{ name: "a", value: "built" }]);
      const key = node("write").outputs!.artifacts![0]!.key!;
      expect(fs.readFileSync(path.join(work, ".argo-artifacts", key, "conf"), "utf8")).toBe("conf\n");
      expect(node("read").outputs?.result).toBe("built\nunseen\nunseen\n/");
      // In the node, where a look finds what the pod changed; not on this machine.
      const dir = queryStepsIn(r.id, path.join(work, r.id), { name: "write" })[0]!.dir;
      expect(fs.readFileSync(path.join(dir, "root", name), "utf8")).toBe("built\n");
      expect(fs.readFileSync(path.join(dir, "root", "etc", name, "config", "who"), "utf8")).toBe("world");
      expect([fs.existsSync(`/${name}`), fs.existsSync(`/etc/${name}`)]).toEqual([false, false]);
      // The directories it left untouched are not left behind as empty mount points.
      expect(fs.readdirSync(path.join(dir, "root")).sort()).toEqual(["etc", "mnt", name, "src", "tmp"].sort());
    } finally {
      for (const p of [`/${name}`, `/etc/${name}`]) fs.rmSync(p, { recursive: true, force: true });
    }
  });

  it("lets pods write the directories DFLOW_ARGO_HOST_DIRS names for real, and refuses a wrong one before anything runs", async () => {
    const shared = fs.mkdtempSync("/var/tmp/dflow-host-dirs-");
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-cli-")));
    try {
      fs.writeFileSync(path.join(cwd, "wf.yaml"), manifest("host-dirs-")`  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, "echo kept > ${shared}/out; echo lost > ${shared}.lost"]}
`);
      const r = await execa(process.execPath, [cli, "run", "wf.yaml"], { cwd, reject: false, all: true, env: { DFLOW_ARGO_HOST_DIRS: shared } });
      expect(r.exitCode, r.all).toBe(0);
      expect(r.all).not.toContain("Note: pods get no root of their own");
      expect(fs.readFileSync(path.join(shared, "out"), "utf8")).toBe("kept\n");
      expect(fs.existsSync(`${shared}.lost`)).toBe(false);
      const before = fs.readdirSync(cwd).length;
      const bad = await execa(process.execPath, [cli, "run", "wf.yaml"], { cwd, reject: false, all: true, env: { DFLOW_ARGO_HOST_DIRS: `${shared}:relative/dir` } });
      expect([bad.exitCode, bad.stderr.trim().split("\n")]).toEqual([1, [expect.stringContaining(`DFLOW_ARGO_HOST_DIRS=${JSON.stringify(`${shared}:relative/dir`)}: "relative/dir" is not an existing directory given by an absolute path`)]]);
      expect(fs.readdirSync(cwd).length).toBe(before);
    } finally {
      for (const p of [shared, `${shared}.lost`, cwd]) fs.rmSync(p, { recursive: true, force: true });
    }
  });

  // Most users are not root: their pods' roots are made in a user namespace, one overlay per
  // directory of `/` (rootfs.ts plan), whose ~180 mount points and work directories the engine
  // makes and removes through libuv's pool (sandbox.ts ownRoot). Run here as `nobody` through
  // setpriv, which needs root to switch.
  const other = 65534;
  const switchable = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;
  const readable = switchable && spawnSync("setpriv", [`--reuid=${other}`, `--regid=${other}`, "--clear-groups", "test", "-r", cli]).status === 0;
  // Not root, or a checkout that user cannot read (under /root, say): this machine's setup, not a defect; skipped, saying so.
  if (!readable) console.warn(`skipped: the tests of a pod's root as a user other than root (${switchable ? `uid ${other} cannot read ${cli}` : "they switch users: root and setpriv needed"})`);
  it.skipIf(!readable)("does the same for a user other than root (a user namespace), and leaves nothing of the pods' mount points in their nodes, also for a pod killed at its deadline", async () => {
    const name = `dflow-own-root-user-${process.pid}-${Date.now()}`;
    const cwd = fs.mkdtempSync("/var/tmp/dflow-other-user-");
    fs.chownSync(cwd, other, other);
    const as = (args: string[]) => execa("setpriv", [`--reuid=${other}`, `--regid=${other}`, "--clear-groups", ...args], { cwd, reject: false, all: true, env: { HOME: cwd, TMPDIR: "/tmp" } });
    try {
      fs.writeFileSync(path.join(cwd, "wf.yaml"), manifest("own-root-user-")`  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: write, template: write}
    - - {name: read, template: read}
      - {name: late, template: late}
  - name: write
    script:
      image: alpine
      command: [sh]
      source: |
        d=/; echo built > ${"$"}{d}${name}
        mkdir -p /etc/${name} /usr/${name} && echo conf > /etc/${name}/conf && echo lib > /usr/${name}/lib
        id -u
    outputs:
      parameters: [{name: a, valueFrom: {path: /${name}}}, {name: b, valueFrom: {path: /usr/${name}/lib}}]
  - name: read
    script: {image: alpine, command: [sh], source: "for p in /${name} /etc/${name} /usr/${name}; do test -e $p && echo seen || echo unseen; done"}
  - name: late
    activeDeadlineSeconds: 1
    container: {image: alpine, command: [sh, -c, "echo late > /etc/${name}-late; sleep 60"]}
`);
      fs.chownSync(path.join(cwd, "wf.yaml"), other, other);
      const r = await as([process.execPath, cli, "run", "wf.yaml"]);
      // The workflow fails at the pod that outlives its deadline; the others ran in roots of their own.
      expect(r.exitCode, r.all).toBe(1);
      expect(r.all).not.toContain("Note: pods get no root of their own");
      const id = /ID: (\S+)\)/.exec(r.all)![1]!;
      const step = (n: string) => queryStepsIn(id, path.join(cwd, id), { name: n })[0]!;
      const status = readArgoStatus(path.join(cwd, id))!;
      const node = (d: string) => Object.values(status.nodes).find((n) => n.displayName === d)!;
      expect(node("write").outputs?.result).toBe("0");
      expect(node("write").outputs?.parameters).toEqual([{ name: "a", value: "built" }, { name: "b", value: "lib" }]);
      expect(node("read").outputs?.result).toBe("unseen\nunseen\nunseen");
      expect(node("late").phase).toBe("Failed");
      expect([fs.existsSync(`/${name}`), fs.existsSync(`/etc/${name}`), fs.existsSync(`/usr/${name}`), fs.existsSync(`/etc/${name}-late`)]).toEqual([false, false, false, false]);
      // What the pods changed is in their nodes; the directories they left untouched, and every
      // overlayfs work directory, are gone, the killed pod's too.
      expect(fs.readdirSync(path.join(step("write").dir, "root")).sort()).toEqual(["etc", "mnt", name, "tmp", "usr"].sort());
      expect(fs.readdirSync(path.join(step("read").dir, "root")).sort()).toEqual(["mnt", "tmp"]);
      // (Whether the killed pod wrote its file before its deadline depends on how busy the machine is.)
      expect(fs.readdirSync(path.join(step("late").dir, "root")).filter((e) => e !== "etc").sort()).toEqual(["mnt", "tmp"]);
      for (const s of ["write", "read", "late"]) expect(fs.readdirSync(step(s).dir)).not.toContain("root.overlay-work");
      // So the user can remove the run (overlayfs leaves unreadable directories behind).
      const rm = await as(["rm", "-rf", path.join(cwd, id)]);
      expect([rm.exitCode, rm.all]).toEqual([0, ""]);
    } finally {
      for (const p of [`/${name}`, `/etc/${name}`, `/usr/${name}`, `/etc/${name}-late`, cwd]) fs.rmSync(p, { recursive: true, force: true });
    }
  });

  it.skipIf(!readable)("removes overlayfs work directories as a user other than root, whatever unreadable directories the kernel left in them", async () => {
    const dir = fs.mkdtempSync("/var/tmp/dflow-work-tree-");
    fs.chownSync(dir, other, other);
    // As overlayfs leaves them: <workdir>/work mode 0, and with `volatile` work/incompat/volatile/dirty, each mode 0.
    const script = `
      const fs = require("node:fs");
      const d = process.argv[1];
      fs.mkdirSync(d + "/w/1/work/incompat/volatile", { recursive: true });
      fs.writeFileSync(d + "/w/1/work/incompat/volatile/dirty", "");
      fs.mkdirSync(d + "/w/2/work", { recursive: true });
      fs.writeFileSync(d + "/w/fstab", "");
      for (const p of ["/w/1/work/incompat/volatile", "/w/1/work/incompat", "/w/1/work", "/w/2/work"]) fs.chmodSync(d + p, 0);
      try { fs.rmSync(d + "/w", { recursive: true }); } catch (e) { console.log(e.code); }
      import(process.argv[2]).then((m) => { m.removeWorkTree(d + "/w"); console.log(fs.existsSync(d + "/w")); });`;
    try {
      const r = await execa("setpriv", [`--reuid=${other}`, `--regid=${other}`, "--clear-groups", process.execPath, "-e", script, dir, path.join(root, "dist", "engine", "argo", "rootfs.js")], { reject: false, all: true });
      // A plain removal fails for that user; removeWorkTree does it.
      expect([r.exitCode, r.all]).toEqual([0, "EACCES\nfalse"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("dflow run wf.yaml", () => {
  it("runs a manifest with its WorkflowTemplates and parameters, and exits non-zero when it fails", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-cli-")));
    const ok = await execa(process.execPath, [cli, "run", path.join(corpus, "workflow-template/workflow-template-ref.yaml"), "-t", path.join(corpus, "workflow-template/templates.yaml"), "-p", "message=from the command line"], { cwd, reject: false, all: true });
    expect(ok.exitCode, ok.all).toBe(0);
    const id = /ID: (\S+)\)/.exec(ok.all)![1];
    const log = await execa(process.execPath, [cli, "logs", id], { cwd, reject: false, all: true });
    expect(log.all).toContain("from the command line");

    const failed = await execa(process.execPath, [cli, "run", path.join(corpus, "e2e/testdata/exit-1.yaml")], { cwd, reject: false, all: true });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/workflow exit-1-\w{5} Failed: Error \(exit code 1\)/);

    // A run that ends in Error is listed and shown as Error, Argo's phase (dflow's `status` file has Failed only).
    fs.writeFileSync(path.join(cwd, "error.yaml"), "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: errs-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    outputs: {parameters: [{name: x, valueFrom: {path: /tmp/missing.txt}}]}\n    container: {image: alpine, command: [echo, no output file]}\n");
    const errored = await execa(process.execPath, [cli, "run", "error.yaml"], { cwd, reject: false, all: true });
    expect(errored.exitCode).toBe(1);
    const errId = /ID: (\S+)\)/.exec(errored.all)![1]!;
    const listed = await execa(process.execPath, [cli, "list"], { cwd, reject: false, all: true });
    expect(listed.all.split("\n").find((l) => l.startsWith(errId))).toMatch(new RegExp(`^${errId}\\s+Error\\s`));
    const shown = await execa(process.execPath, [cli, "get", errId], { cwd, reject: false, all: true });
    expect(shown.all).toMatch(/^Status:\s+Error$/m);

    // JSON, as `argo submit` takes it too (dflow's Python client keeps its manifests so).
    fs.writeFileSync(path.join(cwd, "wf.json"), JSON.stringify({ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { generateName: "json-" }, spec: { entrypoint: "main", templates: [{ name: "main", container: { image: "alpine", command: ["echo", "from json"] } }] } }));
    const json = await execa(process.execPath, [cli, "run", "wf.json"], { cwd, reject: false, all: true });
    expect([json.exitCode, json.all]).toEqual([0, expect.stringMatching(/workflow json-\w{5} Succeeded/)]);

    const missing = await execa(process.execPath, [cli, "run", path.join(corpus, "workflow-template/workflow-template-ref.yaml")], { cwd, reject: false, all: true });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim().split("\n")).toEqual([expect.stringContaining('WorkflowTemplate "workflow-template-submittable" not found: pass the file that defines it (dflow run -t FILE')]);
  });

  it("--watch shows each step as it changes while the workflow runs (argo submit --watch), for a manifest and a script alike", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-cli-")));
    fs.writeFileSync(
      path.join(cwd, "wf.yaml"),
      manifest("watched-")`  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: A, template: s}, {name: B, template: s, dependencies: [A]}]}
  - name: s
    container: {image: alpine, command: [echo, hi]}
`,
    );
    const r = await execa(process.execPath, [cli, "run", "wf.yaml", "--watch"], { cwd, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const lines = r.all!.split("\n");
    // Not a terminal: a line per change, the workflow's last; then the outcome.
    for (const step of ["A", "B"]) expect(lines.some((l) => new RegExp(`^\\[[\\d:]+\\]   ${step} \\(watched-\\w{5}-${step}-\\w{5}\\): Succeeded in \\d+s$`).test(l)), `${step} in:\n${r.all}`).toBe(true);
    const last = lines.findLastIndex((l) => /^\[[\d:]+\] workflow watched-\w{5}: Succeeded 2\/2 steps in \d+s$/.test(l));
    expect(last, r.all).toBeGreaterThan(-1);
    expect(lines.findIndex((l) => /^dflow: workflow watched-\w{5} Succeeded$/.test(l))).toBeGreaterThan(last);
    const script = await execa(process.execPath, [cli, "run", path.join(root, "examples", "dag.ts"), "-w"], { cwd, reject: false, all: true });
    expect(script.exitCode, script.all).toBe(0);
    expect(script.all).toMatch(/^\[[\d:]+\] workflow dag-\w{5}: Succeeded 2\/2 steps in \d+s$/m);
    expect(script.all).toMatch(/^\[[\d:]+\] hello1 \(dag-\w{5}-hello1-\w{5}\): Succeeded in \d+s$/m);
    const both = await execa(process.execPath, [cli, "run", "wf.yaml", "--watch", "--detach"], { cwd, reject: false, all: true });
    expect([both.exitCode, both.stderr]).toEqual([2, "dflow: --watch and --detach go against each other: run with --detach, then follow it with `dflow watch <id>`"]);
  });

  it("without a mount namespace, says where an output written through a path built at run time went, and why", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-cli-")));
    const name = `dflow-built-${process.pid}-${Date.now()}`;
    fs.writeFileSync(path.join(cwd, "wf.yaml"), BUILT(name));
    try {
      const r = await execa(process.execPath, [cli, "run", "wf.yaml"], { cwd, reject: false, all: true, env: { DFLOW_ARGO_PRIVATE_TMP: "0" } });
      expect(r.exitCode, r.all).toBe(1);
      // Said once, when the run starts: what a pod writes through a built path reaches this machine.
      expect(r.all).toContain("Note: pods get no root of their own here (no mount namespace: DFLOW_ARGO_PRIVATE_TMP=0): what a program writes outside /tmp and /mnt");
      const id = /ID: (\S+)\)/.exec(r.all)![1];
      const make = Object.values(readArgoStatus(path.join(cwd, id)).nodes).filter((n) => /^make\(/.test(n.displayName));
      expect(make.length).toBe(3);
      expect(r.stderr).toMatch(/workflow built-\w{5} Failed/);
      for (const n of make) {
        expect(n.phase).toBe("Error");
        expect(n.message).toContain(`/tmp/${name}/v exists on this machine, outside the node: the program probably reached it through a path it built at run time`);
        expect(n.message).toContain("(none here: DFLOW_ARGO_PRIVATE_TMP=0)");
      }
    } finally {
      fs.rmSync(`/tmp/${name}`, { recursive: true, force: true });
    }
  });

  it("--detach runs it in the background: the id at once, the run's output in <wfdir>/log.txt; a bad manifest is one line first", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-detach-")));
    const file = path.join(cwd, "bg.yaml");
    fs.writeFileSync(file, "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: bg-}\nspec:\n  entrypoint: hi\n  arguments: {parameters: [{name: who, value: nobody}]}\n  templates:\n  - name: hi\n    container: {image: busybox, command: [sh, -c], args: [\"echo hi {{workflow.parameters.who}}\"]}\n");
    const r = await execa(process.execPath, [cli, "run", "bg.yaml", "--detach", "-p", "who=you"], { cwd, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const id = /^Workflow (bg-\w{5}) is running in the background/.exec(r.stdout)![1];
    await until("the workflow to end", () => ["Succeeded", "Failed"].includes(fs.existsSync(path.join(cwd, id, "status")) ? fs.readFileSync(path.join(cwd, id, "status"), "utf8") : ""));
    expect(readArgoStatus(path.join(cwd, id))!.phase).toBe("Succeeded");
    expect(fs.readFileSync(path.join(cwd, id, id, "log.txt"), "utf8")).toBe("hi you\n");
    expect(fs.readFileSync(path.join(cwd, id, "log.txt"), "utf8")).toContain(`Workflow is running locally (ID: ${id})`);

    const bad = await execa(process.execPath, [cli, "run", "bg.yaml", "--detach", "-p", "nobody=1"], { cwd, reject: false, all: true });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.trim().split("\n")).toEqual([expect.stringContaining("parameter nobody: the workflow has no argument of that name")]);
  });

  it("runs each Workflow of a file of several together, as argo submit does: the file's templates serve them, -p sets the argument where it is, dflow stop stops one alone", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-several-")));
    const file = path.join(cwd, "several.yaml");
    fs.writeFileSync(
      file,
      `apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib}
spec:
  templates:
  - name: say
    inputs: {parameters: [{name: text}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.text}}"]}
---
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: nightly}
spec: {schedules: ["0 2 * * *"], workflowSpec: {entrypoint: main, templates: [{name: main, container: {image: busybox, command: ["true"]}}]}}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: greet-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: nobody}]}
  templates:
  - name: main
    steps:
    - - {name: hi, templateRef: {name: lib, template: say}, arguments: {parameters: [{name: text, value: "hi {{workflow.parameters.who}}"}]}}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: nap-}
spec:
  entrypoint: nap
  onExit: bye
  templates:
  - name: nap
    container: {image: busybox, command: [sh, -c], args: ["echo started; sleep 600"]}
  - name: bye
    container: {image: busybox, command: [echo, "bye {{workflow.status}}"]}
`,
    );
    const run = execa(process.execPath, [cli, "run", file, "-p", "who=you"], { cwd, reject: false, all: true });
    const greet = await until("the first workflow to succeed", () => fs.readdirSync(cwd).find((n) => n.startsWith("greet-") && readArgoStatus(path.join(cwd, n))?.phase === "Succeeded"));
    const nap = await until("the second to start", () => fs.readdirSync(cwd).find((n) => n.startsWith("nap-")));
    await until("its pod to start", () => fs.existsSync(path.join(cwd, nap, nap, "log.txt")) && fs.readFileSync(path.join(cwd, nap, nap, "log.txt"), "utf8").includes("started"));
    expect(Object.values(readArgoStatus(path.join(cwd, greet))!.nodes).find((n) => n.displayName === "hi")!.outputs?.result).toBe("hi you");
    // One process runs both; a signal would end both: the stop is a request to that one run.
    const stop = await execa(process.execPath, [cli, "stop", nap], { cwd, reject: false, all: true });
    expect(stop.exitCode, stop.all).toBe(0);
    const r = await run;
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `dflow: ${file}: CronWorkflow nightly is not run (\`dflow run\` runs the Workflows of a file and uses its templates, ConfigMaps and Secrets, as \`argo submit\` does): a CronWorkflow runs on its schedule in \`dflow server\` (\`argo cron create\`)`,
      `dflow: workflow ${greet} Succeeded`,
      `dflow: workflow ${nap} Failed: Stopped with strategy 'Stop'`,
    ]);
    // Argo's Stop: the exit handler still runs.
    const bye = Object.values(readArgoStatus(path.join(cwd, nap))!.nodes).find((n) => n.displayName === `${nap}.onExit`);
    expect([bye?.phase, bye?.outputs?.result]).toEqual(["Succeeded", "bye Failed"]);

    // What is wrong with any of them is said at once, each naming its Workflow; nothing runs.
    const bad = path.join(cwd, "bad.yaml");
    fs.writeFileSync(bad, fs.readFileSync(file, "utf8").replace("entrypoint: main\n  arguments", "entrypoint: mian\n  arguments").replace("onExit: bye", "onExit: by"));
    const refused = await execa(process.execPath, [cli, "run", bad, "-p", "whom=you"], { cwd, reject: false, all: true });
    expect([refused.exitCode, refused.stderr]).toEqual([1, "dflow: parameter whom: no workflow of the file has argument of that name (it has who)"]);
    const both = await execa(process.execPath, [cli, "run", bad], { cwd, reject: false, all: true });
    expect(both.exitCode).toBe(1);
    expect(both.stderr.trim().split("\n")).toEqual([
      `dflow: ${bad}: 2 of its 2 Workflows cannot run (nothing was run):`,
      "Workflow greet-: invalid spec: spec.entrypoint template name 'mian' undefined",
      "Workflow nap-: invalid spec: spec.onExit template name 'by' undefined",
    ]);
    expect(fs.readdirSync(cwd).filter((n) => n.startsWith("greet-"))).toEqual([greet]);
  });

  it("takes what argo submit takes: several files, a URL and - (stdin), run together; what cannot be read is one line", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-inputs-")));
    const say = (name: string, text: string) => manifest(`${name}-`)`  entrypoint: main\n  templates: [{name: main, container: {image: busybox, command: [echo, "${text}"]}}]\n`;
    fs.writeFileSync(path.join(cwd, "one.yml"), say("one", "from a file"));
    const server = http.createServer((req, res) => {
      if (req.url === "/two.yaml") res.end(say("two", "from a URL"));
      else res.writeHead(404, "Not Found").end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const r = await execa(process.execPath, [cli, "run", "one.yml", `${url}/two.yaml`, "-"], { cwd, reject: false, all: true, input: say("three", "from stdin") });
      expect(r.exitCode, r.all).toBe(0);
      const said = fs.readdirSync(cwd).filter((n) => /^(one|two|three)-/.test(n)).map((id) => Object.values(readArgoStatus(path.join(cwd, id))!.nodes)[0]!.outputs?.result).sort();
      expect(said).toEqual(["from a URL", "from a file", "from stdin"]);

      const missing = await execa(process.execPath, [cli, "run", `${url}/nope.yaml`], { cwd, reject: false, all: true });
      expect([missing.exitCode, missing.stderr]).toEqual([1, `dflow: cannot fetch the workflow manifest ${url}/nope.yaml: HTTP 404 Not Found`]);
      const stray = await execa(process.execPath, [cli, "run", "one.yml", "notes.txt"], { cwd, reject: false, all: true });
      expect([stray.exitCode, stray.stderr]).toEqual([2, "dflow: notes.txt: after a manifest, each argument is a manifest too (.yaml, .yml, .json, a URL, or - for stdin), as `argo submit FILE...` takes them"]);
      // Every file's problem at once, each naming its file.
      fs.writeFileSync(path.join(cwd, "bad.yaml"), say("bad", "x").replace("entrypoint: main", "entrypoint: mian"));
      const bad = await execa(process.execPath, [cli, "run", "bad.yaml", "one.yml", "nothing.json"], { cwd, reject: false, all: true, input: "" });
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toBe("dflow: no such workflow manifest: nothing.json");
      fs.writeFileSync(path.join(cwd, "empty.json"), "");
      const two = await execa(process.execPath, [cli, "run", "bad.yaml", "one.yml", "empty.json"], { cwd, reject: false, all: true });
      expect(two.exitCode).toBe(1);
      expect(two.stderr.split("\n")).toEqual([
        "dflow: 2 problems (nothing was run):",
        "empty.json: expected one document of kind Workflow, found nothing (templates are not run: submit a Workflow that references them)",
        "bad.yaml: Workflow bad-: invalid spec: spec.entrypoint template name 'mian' undefined",
      ]);
      expect(fs.readdirSync(cwd).filter((n) => n.startsWith("one-"))).toHaveLength(1);
    } finally {
      server.close();
    }
  });

  it("dflow stop ends a running manifest: its process killed, its nodes and the workflow Failed with the reason", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-stop-")));
    const file = path.join(cwd, "nap.yaml");
    fs.writeFileSync(file, "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: nap-}\nspec:\n  entrypoint: nap\n  templates:\n  - name: nap\n    container: {image: busybox, command: [sh, -c], args: [\"echo started; sleep 600\"]}\n");
    const run = execa(process.execPath, [cli, "run", file], { cwd, reject: false, all: true });
    const id = await until("the workflow to start", () => fs.readdirSync(cwd).find((n) => n.startsWith("nap-")));
    await until("its process to start", () => fs.existsSync(path.join(cwd, id, id, "log.txt")) && fs.readFileSync(path.join(cwd, id, id, "log.txt"), "utf8").includes("started"));
    const stop = await execa(process.execPath, [cli, "stop", id], { cwd, reject: false, all: true });
    expect(stop.exitCode, stop.all).toBe(0);
    expect((await run).exitCode).not.toBe(0);
    const status = readArgoStatus(path.join(cwd, id))!;
    expect(status.phase).toBe("Failed");
    expect(status.message).toContain("dflow stop");
    expect(Object.values(status.nodes).map((n) => n.phase)).toEqual(["Failed"]);
    expect(fs.readFileSync(path.join(cwd, id, "status"), "utf8")).toBe("Failed");
  });

  it("a suspend without a duration waits for a resume: dflow resume from another shell ends it, and the run goes on", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-resume-")));
    const file = path.join(cwd, "approve.yaml");
    fs.writeFileSync(file, "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: approve-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - {name: approve, template: approve}\n    - - {name: deploy, template: deploy}\n  - name: approve\n    suspend: {}\n  - name: deploy\n    container: {image: busybox, command: [echo, deployed]}\n");
    const run = execa(process.execPath, [cli, "run", file], { cwd, reject: false, all: true });
    const id = await until("the workflow to start", () => fs.readdirSync(cwd).find((n) => n.startsWith("approve-")));
    const node = (d: string) => Object.values(readArgoStatus(path.join(cwd, id))?.nodes ?? {}).find((n) => n.displayName === d);
    await until("the suspend node to wait", () => node("approve")?.phase === "Running");
    expect(node("deploy")).toBeUndefined();
    const resume = await execa(process.execPath, [cli, "resume", id], { cwd, reject: false, all: true });
    expect([resume.exitCode, resume.all]).toEqual([0, expect.stringContaining("resumed")]);
    const done = await run;
    expect(done.exitCode, done.all).toBe(0);
    expect([node("approve")?.phase, node("deploy")?.phase, node("deploy")?.outputs?.result]).toEqual(["Succeeded", "Succeeded", "deployed"]);
    // Nothing waits any more: a second resume has nothing to do.
    expect((await execa(process.execPath, [cli, "resume", id], { cwd, reject: false, all: true })).all).toContain("not suspended");
  });

  it("dflow resume --node resumes only the suspend nodes it picks, with their supplied outputs (Argo's intermediate parameters)", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-node-")));
    const file = path.join(cwd, "choose.yaml");
    fs.writeFileSync(
      file,
      `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: choose-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: approve, template: approve}
      - {name: review, template: review}
    - - {name: deploy, template: deploy, arguments: {parameters: [{name: choice, value: "{{steps.approve.outputs.parameters.choice}}"}]}}
  - name: approve
    suspend: {}
    outputs: {parameters: [{name: choice, valueFrom: {supplied: {}}}]}
  - name: review
    suspend: {}
  - name: deploy
    inputs: {parameters: [{name: choice}]}
    container: {image: busybox, command: [echo, "deploying {{inputs.parameters.choice}}"]}
`,
    );
    const run = execa(process.execPath, [cli, "run", file], { cwd, reject: false, all: true });
    const id = await until("the workflow to start", () => fs.readdirSync(cwd).find((n) => n.startsWith("choose-")));
    const node = (d: string) => Object.values(readArgoStatus(path.join(cwd, id))?.nodes ?? {}).find((n) => n.displayName === d);
    await until("both suspend nodes to wait", () => node("approve")?.phase === "Running" && node("review")?.phase === "Running");
    const dflow = (...args: string[]) => execa(process.execPath, [cli, ...args], { cwd, reject: false, all: true });
    const wrong = await dflow("resume", id, "--node", "displayName=approve", "--output", "colour=red");
    expect([wrong.exitCode, wrong.all]).toEqual([2, `dflow: workflow ${id}: node is not expecting output parameter 'colour'`]);
    const one = await dflow("resume", id, "--node", "displayName=approve", "--output", "choice=blue");
    expect([one.exitCode, one.all]).toEqual([0, `Workflow ${id}: resumed approve`]);
    await until("approve to end", () => node("approve")?.phase === "Succeeded");
    expect([node("approve")?.outputs?.parameters, node("review")?.phase]).toEqual([[{ name: "choice", value: "blue" }], "Running"]);
    expect((await dflow("resume", id)).all).toBe(`Workflow ${id} resumed`);
    const done = await run;
    expect(done.exitCode, done.all).toBe(0);
    expect(node("deploy")?.outputs?.result).toBe("deploying blue");
  });
});

// What a trial of the YAML in Argo's docs found (docs/variables.md, workflow-inputs.md, enhanced-depends-logic.md,
// walk-through/loops.md, memoization.md): each a silent difference from Argo or a refusal Argo makes at submit.
describe("Argo's docs, as Argo runs them", () => {
  const node = (wf: ReturnType<typeof Workflow.from_yaml>, name: string) => Object.values(wf.status()!.nodes).find((n) => n.displayName === name)!;
  /** Two echo tasks, B after A as `depends` says. */
  const dagDepending = (depends: string) => manifest("docs-depends-")`
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: echo}
      - {name: B, template: echo, depends: "${depends}"}
  - {name: echo, container: {image: alpine, command: [echo, hi]}}
`;

  it("`when` compares numbers as govaluate does (5 == 5.0), and a global output is there for the steps and tasks after it", async () => {
    const wf = Workflow.from_yaml(manifest("docs-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: eq, template: echo, when: "5 == 5.0"}
      - {name: ne, template: echo, when: "10 != 10.0"}
      - {name: make, template: make}
    - - {name: use, template: show, arguments: {parameters: [{name: v, value: "{{workflow.outputs.parameters.g}}"}]}}
    - - {name: dag, template: dag}
  - name: dag
    dag:
      tasks:
      - {name: again, template: make-again}
      - {name: use-again, template: show, depends: again, arguments: {parameters: [{name: v, value: "{{workflow.outputs.parameters.h}}"}]}}
  - name: echo
    container: {image: alpine, command: [echo, ran]}
  - name: make
    container: {image: alpine, command: [sh, -c, "echo global > /tmp/g"]}
    outputs: {parameters: [{name: g, globalName: g, valueFrom: {path: /tmp/g}}]}
  - name: make-again
    container: {image: alpine, command: [sh, -c, "echo again > /tmp/h"]}
    outputs: {parameters: [{name: h, globalName: h, valueFrom: {path: /tmp/h}}]}
  - name: show
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.v}}"]}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    expect([node(wf, "eq").phase, node(wf, "ne").phase]).toEqual(["Succeeded", "Skipped"]);
    // A skipped node has ended: its duration stops (dflow get, query_step).
    expect(new Workflow({ id: r.id }).query_step({ name: "ne" })[0]?.finishedAt).toEqual(expect.any(Number));
    expect([node(wf, "use").outputs?.result, node(wf, "use-again").outputs?.result]).toEqual(["global", "again"]);
  });

  it("a loop over no items is a skipped producer (§4.3), as Argo finds its Skipped node by the step's name: its outputs are their defaults, else absent (`??` takes over; a plain reference fails its node)", async () => {
    const wf = Workflow.from_yaml(manifest("docs-empty-loop-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: fan, template: sq, withParam: "[]", arguments: {parameters: [{name: v, value: "{{item}}"}]}}
    - - {name: dflt, template: show, arguments: {parameters: [{name: v, value: "{{steps.fan.outputs.parameters.tag}}"}]}}
      - {name: fallback, template: show, arguments: {parameters: [{name: v, value: "{{=steps.fan.outputs.parameters.o ?? 'none'}}"}]}}
      - {name: plain, template: show, arguments: {parameters: [{name: v, value: "{{steps.fan.outputs.parameters.o}}"}]}}
  - name: sq
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [sh, -c, "echo {{inputs.parameters.v}} > /tmp/o"]}
    outputs:
      parameters:
      - {name: o, valueFrom: {path: /tmp/o}}
      - {name: tag, valueFrom: {path: /tmp/tag, default: "0"}}
  - name: show
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.v}}"]}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Failed");
    expect(node(wf, "fan")).toMatchObject({ phase: "Skipped", message: "Skipped, empty params" });
    expect([node(wf, "dflt").outputs?.result, node(wf, "fallback").outputs?.result]).toEqual(["0", "none"]);
    expect(node(wf, "plain")).toMatchObject({ phase: "Error", message: expect.stringContaining("absent optional") });
  });

  it("an expression over a step's outputs waits for that step, `??` or not: a Steps template's later step gets the loop's values (it got the fallback, resolved before the loop ran)", async () => {
    const wf = Workflow.from_yaml(manifest("docs-later-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: loop, template: t, withParam: "[0, 1, 2]", arguments: {parameters: [{name: i, value: "{{item}}"}]}, continueOn: {failed: true}}
    - - {name: show, template: show, arguments: {parameters: [{name: v, value: "{{=(steps.loop.outputs.parameters.tag ?? '[]')}}"}]}}
  - name: t
    inputs: {parameters: [{name: i}]}
    container: {image: alpine, command: [sh, -c, "echo {{inputs.parameters.i}} > /tmp/tag; exit $(( {{inputs.parameters.i}} % 2 ))"]}
    outputs: {parameters: [{name: tag, valueFrom: {path: /tmp/tag}}]}
  - name: show
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.v}}"]}
`);
    expect((await wf.submit()).phase).toBe("Succeeded");
    expect(node(wf, "show").outputs?.result).toBe('["0","2"]');
  });

  it("a DAG task whose `when` reads an output its failed dependency did not write ends in Error, saying that Argo's controller would requeue it forever (a plain reference, or one in an expression not guarded by `??` or `?.`)", async () => {
    const wf = Workflow.from_yaml(manifest("docs-requeue-")`
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: bad, continueOn: {failed: true}}
      - {name: b, template: echo, dependencies: [a], when: "{{tasks.a.outputs.parameters.x}} == 1"}
      - {name: c, template: echo, dependencies: [a], when: "{{=tasks.a.outputs.parameters.x == '1'}}"}
      - {name: d, template: echo, dependencies: [a], when: "{{=(tasks.a?.outputs?.parameters?.x ?? '0') == '1'}}"}
      - {name: e, template: echo, dependencies: [a], when: "{{=tasks.a.status == 'Failed'}}"}
      - {name: f, template: show, dependencies: [a], arguments: {parameters: [{name: v, value: "{{tasks.a.outputs.parameters.x}}"}]}}
  - name: show
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.v}}"]}
  - name: bad
    container: {image: alpine, command: [sh, -c, "exit 1"]}
    outputs: {parameters: [{name: x, valueFrom: {path: /tmp/x}}]}
  - {name: echo, container: {image: alpine, command: [echo, hi]}}
`);
    expect((await wf.submit()).phase).toBe("Error");
    const requeued = " (on Argo the controller would wait for it, the workflow Running until stopped)";
    expect(node(wf, "b")).toMatchObject({ phase: "Error", message: `unable to resolve: {{tasks.a.outputs.parameters.x}}${requeued}` });
    // Argo names the first variable of the path that is not there (getIdentifiers visits the shortest first).
    expect(node(wf, "c")).toMatchObject({ phase: "Error", message: `failed to evaluate expression: tasks.a.outputs.parameters is missing${requeued}` });
    expect([node(wf, "d").phase, node(wf, "e").phase]).toEqual(["Skipped", "Succeeded"]);
    expect(node(wf, "f")).toMatchObject({ phase: "Error", message: `arguments.parameters.v: unable to resolve: {{tasks.a.outputs.parameters.x}}${requeued}` });
  });

  it("names a node by its template's display-name annotation, and a failed loop item in its group's message", async () => {
    const wf = Workflow.from_yaml(manifest("docs-names-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: os, template: os, arguments: {parameters: [{name: image, value: "{{item}}"}]}, withItems: [debian, alpine]}
    - - {name: loop, template: fail-on, arguments: {parameters: [{name: i, value: "{{item}}"}]}, withItems: [0, 1]}
  - name: os
    annotations: {workflows.argoproj.io/display-name: "os-{{inputs.parameters.image}}"}
    inputs: {parameters: [{name: image}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.image}}"]}
  - name: fail-on
    inputs: {parameters: [{name: i}]}
    container: {image: alpine, command: [sh, -c, "exit {{inputs.parameters.i}}"]}
`);
    expect((await wf.submit()).phase).toBe("Failed");
    const nodes = Object.values(wf.status()!.nodes);
    expect(nodes.filter((n) => n.templateName === "os").map((n) => n.displayName).sort()).toEqual(["os-alpine", "os-debian"]);
    const group = nodes.find((n) => n.type === "StepGroup" && n.displayName === "[1]")!;
    expect(group.message).toBe(`child '${nodes.find((n) => n.displayName === "loop(1:1)")!.name}' failed`);
  });

  it("a pod whose program this machine lacks fails with Argo's exit code 127 and the shell's word for it", async () => {
    const wf = Workflow.from_yaml(manifest("docs-nocmd-")`
  entrypoint: main
  templates:
  - {name: main, container: {image: nginx, command: [nginx-not-here, -g, "daemon off;"]}}
`);
    expect((await wf.submit()).phase).toBe("Failed");
    expect(wf.status()!.message).toMatch(/^Error \(exit code 127\): .*nginx-not-here: command not found \(the image's programs are not all on this machine\)$/);
  });

  it("says which task failed a DAG, not the omitted leaf after it that takes its phase", async () => {
    const wf = Workflow.from_yaml(manifest("docs-dag-msg-")`
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: fail}
      - {name: b, template: ok, depends: a}
      - {name: c, template: ok, depends: b}
  - {name: fail, container: {image: alpine, command: [sh, -c, "exit 3"]}}
  - {name: ok, container: {image: alpine, command: [echo, hi]}}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Failed");
    expect(wf.status()!.message).toBe(`child '${r.id}.a' failed`);
  });

  it("refuses at submit what Argo's validation refuses: an argument without a value, an invalid task result, a template without a type, a field of the wrong kind", () => {
    const args = manifest("docs-args-")`
  entrypoint: main
  arguments: {parameters: [{name: p}]}
  templates:
  - {name: main, container: {image: alpine, command: [echo, "{{workflow.parameters.p}}"]}}
`;
    expect(() => Workflow.from_yaml(args)).toThrow("invalid spec: spec.arguments.p.value or spec.arguments.p.valueFrom is required: give it in the manifest, or on the command line with -p p=VALUE");
    expect(() => Workflow.from_yaml(args, { parameters: { p: "x" } })).not.toThrow();
    // A field Argo has not either is the manifest's mistake (Argo's CLI refuses it too), said so, with the likely one.
    expect(() => Workflow.from_yaml(args.replace("arguments: {parameters: [{name: p}]}", "arguments: {parameters: [{name: p, valu: x}]}"))).toThrow("invalid spec: spec.arguments.parameters.p.valu: unknown parameter field (did you mean value?)");
    const dag = dagDepending("A.Success");
    expect(() => Workflow.from_yaml(dag)).toThrow("templates.main.tasks.B task result 'Success' for task 'A' is invalid");
    expect(() => Workflow.from_yaml(dag.replace("A.Success", "A").replace("  - {name: echo, container: {image: alpine, command: [echo, hi]}}", "  - {name: echo, metadata: {labels: {a: b}}}"))).toThrow(
      "invalid spec: templates.echo template type unspecified. choose one of: container, containerSet, steps, script, resource, dag, suspend, template, template ref",
    );
    const wrong = dag.replace("depends: \"A.Success\"", "depends: A").replace("command: [echo, hi]", "command: echo hi").replace("  entrypoint: main", "  entrypoint: main\n  arguments: {parameters: {a: b}}");
    expect(() => Workflow.from_yaml(wrong)).toThrow(
      "workflow manifest: Workflow docs-depends-: 2 fields of the wrong kind:\n  spec.arguments.parameters: cannot unmarshal object into Go struct field Arguments.parameters of type []v1alpha1.Parameter\n  spec.templates[1].container.command: cannot unmarshal string into Go struct field Container.command of type []string",
    );
  });

  it("collects artifact garbage: OnWorkflowCompletion when it ends, OnWorkflowDeletion when it is deleted, Never kept", async () => {
    const wf = Workflow.from_yaml(manifest("docs-gc-")`
  entrypoint: main
  artifactGC: {strategy: OnWorkflowDeletion}
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, "echo t > /tmp/t; echo k > /tmp/k; echo d > /tmp/d"]}
    outputs:
      artifacts:
      - {name: temporary, path: /tmp/t, s3: {key: "{{workflow.name}}/temporary.txt"}, artifactGC: {strategy: OnWorkflowCompletion}}
      - {name: keep, path: /tmp/k, s3: {key: "{{workflow.name}}/keep.txt"}, artifactGC: {strategy: Never}}
      - {name: default, path: /tmp/d, s3: {key: "{{workflow.name}}/default.txt"}}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const repo = path.join(work, ".argo-artifacts", r.id);
    expect(fs.readdirSync(repo).sort()).toEqual(["default.txt", "keep.txt"]);
    const [n] = Object.values(wf.status()!.nodes);
    expect(n.outputs?.artifacts?.map((a) => [a.name, a.deleted ?? false])).toEqual([["temporary", true], ["keep", false], ["default", false]]);
    await new Workflow({ id: r.id }).delete();
    expect(fs.readdirSync(repo)).toEqual(["keep.txt"]);
  });

  it("keeps artifacts in the repository: a key that leads out of it fails its node, and nothing is written there", async () => {
    const wf = Workflow.from_yaml(manifest("docs-key-")`
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, "echo x > /tmp/x"]}
    outputs: {artifacts: [{name: x, path: /tmp/x, s3: {key: "../escaped.txt"}}]}
`);
    expect((await wf.submit()).phase).toBe("Error");
    const [n] = Object.values(wf.status()!.nodes);
    expect(n.message).toBe('outputs.artifacts.x.s3.key: "../escaped.txt" is no key of the artifact repository (it leads out of it)');
    expect(fs.existsSync(path.join(work, "escaped.txt"))).toBe(false);
  });

  it("says a depends expression that does not parse with the task names as written", async () => {
    const wf = Workflow.from_yaml(dagDepending("A &&& A"));
    expect((await wf.submit()).phase).toBe("Error");
    expect(node(wf, "B").message).toMatch(/^unable to evaluate expression '\(A\.Succeeded \|\| A\.Skipped \|\| A\.Daemoned\) &&& \(A\.Succeeded/);
  });
});
