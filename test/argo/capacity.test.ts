// This machine as the pods' node (engine/argo/capacity.ts): requests read
// as Kubernetes reads them, pods admitted as they fit, Pending with the
// scheduler's reason meanwhile; through `dflow run` with real processes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { Node, capacityFromEnv, podRequest, quantity } from "../../engine/argo/capacity.js";
import { readArgoStatus } from "../../engine/argo/index.js";
import type { ArgoTemplate } from "../../engine/argo/manifest.js";
import { manifest } from "../support/argo.js";
import { until } from "../support/wait.js";

const cli = path.resolve(import.meta.dirname, "../../dist/src/cli.js");
const Mi = 2 ** 20;

describe("requests", () => {
  it("reads Kubernetes quantities", () => {
    expect(["500m", "2", "0.5", "512Mi", "1Gi", "1G", "1e3", "1.5Ki", "100k", ".5"].map(quantity)).toEqual([0.5, 2, 0.5, 512 * Mi, 1024 * Mi, 1e9, 1000, 1536, 1e5, 0.5]);
    for (const bad of ["two", "1 Gi", "1gb", "", "Mi", "1Gi2"]) expect(quantity(bad)).toBeNaN();
  });

  it("sums a pod's containers, against its largest init container, each request defaulting to the limit; podResources wins", () => {
    const t = (x: Partial<ArgoTemplate>) => ({ name: "t", ...x }) as ArgoTemplate;
    const c = (cpu: string, memory?: string, limit = false) => ({ image: "x", resources: { [limit ? "limits" : "requests"]: { cpu, ...(memory ? { memory } : {}) } } });
    expect(podRequest(t({ container: c("500m", "64Mi"), sidecars: [c("1", undefined, true)] }), undefined, "templates.t")).toEqual({ cpu: 1.5, memory: 64 * Mi });
    expect(podRequest(t({ container: c("500m", "64Mi"), initContainers: [c("2", "32Mi"), c("1", "1Gi")] }), undefined, "templates.t")).toEqual({ cpu: 2, memory: 1024 * Mi });
    expect(podRequest(t({ containerSet: { containers: [c("1"), c("250m")] } }), undefined, "templates.t")).toEqual({ cpu: 1.25, memory: 0 });
    expect(podRequest(t({ container: c("4") }), { requests: { cpu: "1" } }, "templates.t")).toEqual({ cpu: 1, memory: 0 });
    expect(podRequest(t({ container: c("4"), podResources: { limits: { memory: "1Gi" } } }), { requests: { cpu: "1" } }, "templates.t")).toEqual({ cpu: 0, memory: 1024 * Mi });
    expect(() => podRequest(t({ container: c("two") }), undefined, "templates.t")).toThrow('templates.t.container.resources.requests.cpu: "two" is not a Kubernetes quantity (such as 500m or 2)');
  });

  it("takes the machine's size from DFLOW_ARGO_CAPACITY, any of cpu, memory and pods, and says what is wrong with it", () => {
    expect(capacityFromEnv("cpu=8, memory=16Gi")).toEqual({ cpu: 8, memory: 16 * 1024 * Mi, pods: 110 });
    expect(capacityFromEnv("")).toEqual({ cpu: os.availableParallelism(), memory: os.totalmem(), pods: 110 });
    for (const bad of ["cpu=0", "gpu=1", "pods=1.5", "memory"]) expect(() => capacityFromEnv(bad)).toThrow(/^DFLOW_ARGO_CAPACITY=.* is not cpu=N, memory=Q or pods=N/);
  });
});

describe("the node", () => {
  it("admits pods as they fit, the others Pending with the scheduler's reason; a smaller one passes a larger one that waits", async () => {
    const node = new Node({ cpu: 2, memory: 1024 * Mi, pods: 3 });
    const said: string[] = [];
    const a = await node.admit({ cpu: 1.5, memory: 0 }, (m) => said.push(`a ${m}`));
    let bReleased: (() => void) | undefined;
    const b = node.admit({ cpu: 1, memory: 512 * Mi }, (m) => said.push(`b ${m}`)).then((r) => (bReleased = r));
    const c = await node.admit({ cpu: 0.5, memory: 0 }, (m) => said.push(`c ${m}`));
    expect(said).toEqual(["b Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."]);
    expect(bReleased).toBeUndefined();
    a();
    a(); // a second release gives nothing back twice
    await b;
    expect(node.free).toEqual({ cpu: 0.5, memory: 512 * Mi, pods: 1 });
    const d = node.admit({ cpu: 0, memory: 0 }, (m) => said.push(`d ${m}`));
    await d;
    const e = node.admit({ cpu: 0, memory: 0 }, (m) => said.push(`e ${m}`));
    expect(said.at(-1)).toBe("e Unschedulable: 0/1 nodes are available: 1 Too many pods.");
    const stop = new AbortController();
    const f = node.admit({ cpu: 2, memory: 0 }, () => undefined, stop.signal);
    stop.abort(new Error("shutdown"));
    await expect(f).rejects.toThrow("shutdown");
    c();
    (await e)();
    bReleased!();
    (await d)();
    expect(node.free).toEqual({ cpu: 2, memory: 1024 * Mi, pods: 3 });
  });

  it("starts a pod beyond the machine's size when only daemons hold it: they wait for the steps that use them", async () => {
    const node = new Node({ cpu: 1, memory: 1024 * Mi, pods: 110 });
    const said: string[] = [];
    const daemon = await node.admit({ cpu: 1, memory: 0 }, () => undefined, undefined, { daemon: true });
    const user = await node.admit({ cpu: 0.5, memory: 0 }, (m) => said.push(`user ${m}`));
    expect(said).toEqual([]);
    let second = false;
    const next = node.admit({ cpu: 0.5, memory: 0 }, (m) => said.push(`next ${m}`)).then((r) => ((second = true), r));
    expect([said, second]).toEqual([["next Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."], false]);
    user();
    (await next)();
    daemon();
    expect(node.free).toEqual({ cpu: 1, memory: 1024 * Mi, pods: 110 });
  });
});

describe("dflow run on a machine of a given size", () => {
  it("runs two pods of cpu 1 at a time on cpu=2: the others Pending as the scheduler says, then all succeed; one asking more than the machine runs alone", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-capacity-")));
    // A folder of this machine the pods write for real (DFLOW_ARGO_HOST_DIRS): the test opens the gate.
    const gate = fs.mkdtempSync("/var/tmp/dflow-gate-");
    try {
      fs.writeFileSync(
        path.join(cwd, "wide.yaml"),
        manifest("wide-")`  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: work, template: work, withItems: [1, 2, 3, 4]}
    - - {name: big, template: big}
  - name: work
    container:
      image: busybox
      command: [sh, -c, "until [ -e ${gate}/open ]; do sleep 0.05; done; echo done"]
      resources: {requests: {cpu: "1", memory: 64Mi}}
  - name: big
    container:
      image: busybox
      command: [echo, alone]
      resources: {requests: {cpu: "64"}}
`,
      );
      const run = execa(process.execPath, [cli, "run", "wide.yaml"], { cwd, reject: false, all: true, env: { DFLOW_ARGO_CAPACITY: "cpu=2", DFLOW_ARGO_HOST_DIRS: gate } });
      const id = await until("the workflow to start", () => fs.readdirSync(cwd).find((n) => n.startsWith("wide-")));
      const work = () => Object.values(readArgoStatus(path.join(cwd, id))?.nodes ?? {}).filter((n) => n.templateName === "work" && n.type === "Pod");
      await until("two pods running and two waiting", () => {
        const phases = work().map((n) => n.phase).sort();
        return phases.length === 4 && phases.join() === "Pending,Pending,Running,Running";
      });
      expect(work().filter((n) => n.phase === "Pending").map((n) => n.message)).toEqual(Array(2).fill("Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."));
      fs.writeFileSync(path.join(gate, "open"), "");
      const r = await run;
      expect(r.exitCode, r.all).toBe(0);
      const nodes = Object.values(readArgoStatus(path.join(cwd, id))!.nodes);
      expect(work().map((n) => [n.phase, n.message, n.outputs?.result])).toEqual(Array(4).fill(["Succeeded", undefined, "done"]));
      expect(nodes.find((n) => n.displayName === "big")?.outputs?.result).toBe("alone");

      // pendingTimeout (and timeout) count the time a pod waits for room, as Argo's: Failed "timeout".
      fs.writeFileSync(
        path.join(cwd, "late.yaml"),
        manifest("late-")`  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: hold, template: hold}
      - {name: held, template: held}
      - {name: late, template: late, dependencies: [held]}
  - name: hold
    container:
      image: busybox
      command: [sh, -c, "touch ${gate}/held; until [ -e ${gate}/go ]; do sleep 0.05; done"]
      resources: {requests: {cpu: "1"}}
  - name: held
    container: {image: busybox, command: [sh, -c, "until [ -e ${gate}/held ]; do sleep 0.05; done"]}
  - name: late
    pendingTimeout: 1s
    container:
      image: busybox
      command: [echo, never]
      resources: {requests: {cpu: "1"}}
`,
      );
      const lateRun = execa(process.execPath, [cli, "run", "late.yaml"], { cwd, reject: false, all: true, env: { DFLOW_ARGO_CAPACITY: "cpu=1", DFLOW_ARGO_HOST_DIRS: gate } });
      const lateId = await until("the second workflow to start", () => fs.readdirSync(cwd).find((n) => n.startsWith("late-")));
      const named = (d: string) => Object.values(readArgoStatus(path.join(cwd, lateId))?.nodes ?? {}).find((n) => n.displayName === d);
      await until("late to time out while it waits", () => named("late")?.phase === "Failed");
      expect([named("late")?.message, named("hold")?.phase]).toEqual(["timeout", "Running"]);
      fs.writeFileSync(path.join(gate, "go"), "");
      expect((await lateRun).exitCode).toBe(1);
      expect(named("hold")?.phase).toBe("Succeeded");

      const bad = await execa(process.execPath, [cli, "run", "wide.yaml"], { cwd, reject: false, all: true, env: { DFLOW_ARGO_CAPACITY: "cpus=2" } });
      expect([bad.exitCode, bad.stderr]).toEqual([1, 'dflow: DFLOW_ARGO_CAPACITY="cpus=2": "cpus=2" is not cpu=N, memory=Q or pods=N with a positive Kubernetes quantity (cpu=8,memory=16Gi,pods=50)']);
      fs.writeFileSync(path.join(cwd, "typo.yaml"), fs.readFileSync(path.join(cwd, "wide.yaml"), "utf8").replace('cpu: "64"', "cpu: lots"));
      const typo = await execa(process.execPath, [cli, "run", "typo.yaml"], { cwd, reject: false, all: true });
      expect([typo.exitCode, typo.stderr]).toEqual([1, 'dflow: invalid spec: templates.big.container.resources.requests.cpu: "lots" is not a Kubernetes quantity (such as 500m or 2)']);
    } finally {
      fs.rmSync(gate, { recursive: true, force: true });
    }
  });
});
