// Daemons, sidecars and init containers of Argo manifests, run as local
// processes (engine/argo/daemons.ts, probe.ts, run.ts pod): a daemon's step
// is done once it is ready and it is stopped with its boundary; sidecars end
// with main; init containers run before it. No timing margins: processes
// wait for each other through files (under /var/tmp: a pod's /tmp is its own).
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Workflow } from "../../src/workflow.js";
import { manifest } from "../support/argo.js";
import { useArgoWorkdir } from "../support/workdir.js";
import { readArgoStatus, retryArgoWorkflow } from "../../engine/argo/index.js";

const workdir = useArgoWorkdir("argo-daemons-");
let shared: string;
beforeAll(() => {
  shared = fs.mkdtempSync("/var/tmp/argo-daemons-");
  // Pods write there for real (each has a root of its own otherwise).
  process.env.DFLOW_ARGO_HOST_DIRS = shared;
});
afterAll(() => {
  fs.rmSync(shared, { recursive: true, force: true });
  delete process.env.DFLOW_ARGO_HOST_DIRS;
});

/** A port nobody listens on now (the kernel's choice). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Whether the process whose pid a container wrote to `file` has ended (a zombie nobody reaped yet has). */
function gone(file: string): boolean {
  const pid = fs.readFileSync(file, "utf8");
  try {
    return /^\S+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

const nodesOf = (wf: Workflow) => Object.values(wf.status()!.nodes);
const byName = (wf: Workflow, name: string) => nodesOf(wf).find((n) => n.displayName === name)!;

describe("daemon templates", () => {
  it("serve the steps after them once ready (httpGet readinessProbe, steps.X.ip) and are stopped, Succeeded, when their steps end", async () => {
    const port = await freePort();
    const wf = Workflow.from_yaml(manifest("daemon-steps-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: server}
    - - name: client
        template: client
        arguments: {parameters: [{name: url, value: "http://{{steps.server.ip}}:${port}/{{item}}"}]}
        withItems: [a, b]
  - name: server
    daemon: true
    container:
      image: node:20
      command: [node, -e, "require('fs').writeFileSync('${shared}/server.pid', String(process.pid)); require('http').createServer((q, s) => s.end('pong ' + q.url)).listen(${port}, '127.0.0.1')"]
      readinessProbe: {httpGet: {path: /, port: ${port}}}
  - name: client
    inputs: {parameters: [{name: url}]}
    script:
      image: node:20
      command: [node]
      source: fetch("{{inputs.parameters.url}}").then((r) => r.text()).then(console.log)
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    expect(["client(0:a)", "client(1:b)"].map((n) => byName(wf, n).outputs?.result)).toEqual(["pong /a", "pong /b"]);
    expect(byName(wf, "client(0:a)").inputs?.parameters).toEqual([{ name: "url", value: `http://127.0.0.1:${port}/a` }]);
    const server = byName(wf, "server");
    expect([server.phase, server.daemoned]).toEqual(["Succeeded", undefined]);
    // Stopped with its steps: its process is gone (not "nothing listens on the port": another test may take it).
    expect(gone(`${shared}/server.pid`)).toBe(true);
  });

  it("retry as Argo's e2e TestDaemonPodRetry: the attempt that dies Failed, the next one Daemoned until its DAG ends, then Succeeded", async () => {
    const dir = fs.mkdtempSync(path.join(shared, "retry-"));
    const wf = Workflow.from_yaml(manifest("daemon-retry-")`
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: daemoned, template: daemoned}
      - {name: whale, depends: daemoned, template: whale}
      - {name: only-if-daemoned, depends: "daemoned.Daemoned && !daemoned.Succeeded", template: whale}
  - name: daemoned
    retryStrategy: {limit: 2}
    daemon: true
    container:
      image: bash
      command: [bash, -c]
      args:
      - |
        echo "Attempt {{retries}}"
        if [ "{{retries}}" -eq 0 ]; then
          until [ -e ${dir}/whale-started ]; do sleep 0.05; done; exit 1
        else
          touch ${dir}/attempt-1; exec sleep 600
        fi
  - name: whale
    container:
      image: bash
      command: [bash, -c, "touch ${dir}/whale-started; until [ -e ${dir}/attempt-1 ]; do sleep 0.05; done"]
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    expect(["daemoned(0)", "daemoned(1)", "daemoned", "whale", "only-if-daemoned"].map((n) => byName(wf, n).phase)).toEqual(["Failed", "Succeeded", "Succeeded", "Succeeded", "Succeeded"]);
    expect(byName(wf, "daemoned(0)").message).toBe("Error (exit code 1)");
  });

  it("run again on a retry where the steps that used them run again (a kept daemon would serve nobody)", async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(shared, "rerun-"));
    const wf = Workflow.from_yaml(manifest("daemon-rerun-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: server}
    - - {name: client, template: client, arguments: {parameters: [{name: ip, value: "{{steps.server.ip}}"}]}}
  - name: server
    daemon: true
    container:
      image: node:20
      command: [node, -e, "require('http').createServer((q, s) => s.end('pong')).listen(${port}, '127.0.0.1')"]
      readinessProbe: {tcpSocket: {port: ${port}}}
  - name: client
    inputs: {parameters: [{name: ip}]}
    script:
      image: node:20
      command: [node]
      source: |
        const fs = require("node:fs");
        // Fails the first time only.
        if (!fs.existsSync("${dir}/failed-once")) { fs.writeFileSync("${dir}/failed-once", ""); process.exit(1); }
        fetch("http://{{inputs.parameters.ip}}:${port}/").then((r) => r.text()).then(console.log);
`);
    const first = await wf.submit();
    expect(first.phase).toBe("Failed");
    expect(byName(wf, "client").message).toBe("Error (exit code 1)");
    const stopped = byName(wf, "server");
    expect(stopped.phase).toBe("Succeeded");
    const again = await retryArgoWorkflow(first.id);
    expect(again.phase).toBe("Succeeded");
    const nodes = Object.values(readArgoStatus(again.dir)!.nodes);
    const server = nodes.find((n) => n.displayName === "server")!;
    expect([server.phase, server.id === stopped.id]).toEqual(["Succeeded", false]);
    expect(nodes.find((n) => n.displayName === "client")!.outputs?.result).toBe("pong");
  });

  it("fail their step when they end before they are ready, with the reason", async () => {
    const port = await freePort();
    const wf = Workflow.from_yaml(manifest("daemon-gone-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: server}
    - - {name: client, template: client}
  - name: server
    daemon: true
    container:
      image: busybox
      command: [sh, -c, "echo starting"]
      readinessProbe: {tcpSocket: {port: ${port}}}
  - name: client
    container: {image: busybox, command: [echo, hi]}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Failed");
    expect(byName(wf, "server")).toMatchObject({ phase: "Failed", message: "daemon exited (exit code 0) before the steps or DAG template that started it ended" });
    expect(nodesOf(wf).some((n) => n.displayName === "client")).toBe(false);
  });
});

describe("sidecars and init containers", () => {
  it("run init containers in order before main, sharing its volumes (mirrorVolumeMounts); a sidecar serves main and is stopped after it", async () => {
    const port = await freePort();
    const wf = Workflow.from_yaml(manifest("pod-containers-")`
  entrypoint: main
  volumes: [{name: shared, emptyDir: {}}]
  templates:
  - name: main
    initContainers:
    - {name: first, image: busybox, command: [sh, -c, "echo one > /work/in/order; echo init says hi"], mirrorVolumeMounts: true}
    - {name: second, image: busybox, command: [sh, -c, "echo two >> /data/order"], volumeMounts: [{name: shared, mountPath: /data}]}
    sidecars:
    - name: web
      image: node:20
      command: [node, -e, "require('fs').writeFileSync('${shared}/web.pid', String(process.pid)); require('http').createServer((q, s) => s.end('from the sidecar')).listen(${port}, '127.0.0.1')"]
    script:
      image: node:20
      command: [node]
      volumeMounts: [{name: shared, mountPath: /work/in}]
      source: |
        const fs = require("node:fs");
        const get = () => fetch("http://127.0.0.1:${port}/").then((r) => r.text(), () => new Promise((ok) => setTimeout(ok, 50)).then(get));
        get().then((text) => console.log(fs.readFileSync("/work/in/order", "utf8").trim().split("\\n").join(",") + " " + text));
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Succeeded");
    const [pod] = nodesOf(wf);
    expect(pod.outputs?.result).toBe("one,two from the sidecar");
    expect(gone(`${shared}/web.pid`)).toBe(true);
    // Each container's log beside main's.
    expect(fs.readFileSync(path.join(workdir.dir, r.id, pod.id, "containers", "first", "log.txt"), "utf8")).toBe("init says hi\n");
  });

  it("fail the pod with the first init container that fails, before main runs; a sidecar that cannot run here ends a main that waits for it", async () => {
    const wf = Workflow.from_yaml(manifest("pod-broken-")`
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: init, template: init}
      - {name: side, template: side}
  - name: init
    initContainers: [{name: setup, image: busybox, command: [sh, -c, "exit 3"]}]
    container: {image: busybox, command: [sh, -c, "echo main ran"]}
  - name: side
    sidecars: [{name: nginx, image: "nginx:1.13", command: [no-such-program-here, -g, "daemon off;"]}]
    container: {image: busybox, command: [sh, -c, "until false; do sleep 0.1; done"]}
`);
    const r = await wf.submit();
    expect(r.phase).toBe("Failed");
    const init = byName(wf, "init");
    expect([init.phase, init.message]).toEqual(["Failed", "setup: Error (exit code 3)"]);
    expect(fs.existsSync(path.join(workdir.dir, r.id, init.id, "log.txt"))).toBe(false);
    const side = byName(wf, "side");
    expect(side.phase).toBe("Failed");
    expect(side.message).toMatch(/^sidecar nginx: Error \(exit code 127\): .*no-such-program-here.*: it cannot run on this machine \(its log: .*containers\/nginx\/log\.txt\)$/);
  });

  it("refuse, in one line before anything runs, what a local pod cannot give them", () => {
    const base = (template: string) => manifest("refused-")`  entrypoint: main
  templates:
  - name: main
${template}`;
    expect(() => Workflow.from_yaml(base("    daemon: true\n    container: {image: busybox, command: [sleep, '9'], readinessProbe: {grpc: {port: 9}}}"))).toThrow("templates.main.container.readinessProbe.grpc is not supported when running Argo workflows locally: gRPC probes are not implemented; use httpGet, tcpSocket or exec");
    expect(() => Workflow.from_yaml(base("    sidecars: [{name: s, image: busybox}]\n    steps: [[]]"))).toThrow("templates.main.sidecars is not supported when running Argo workflows locally: only container and script templates have them locally");
    expect(() => Workflow.from_yaml(base("    sidecars: [{name: s, image: busybox, lifecycle: {preStop: {}}}]\n    container: {image: busybox, command: ['true']}"))).toThrow("templates.main.sidecars.s.lifecycle is not supported when running Argo workflows locally: unknown or Kubernetes-only container field");
    expect(() => Workflow.from_yaml(base("    initContainers: [{name: i, image: busybox, volumeMounts: [{name: nope, mountPath: /x}]}]\n    container: {image: busybox, command: ['true']}"))).toThrow("templates.main.initContainers.i.volumeMounts.nope names no volume of the template, of spec.volumes or of spec.volumeClaimTemplates");
    expect(() => Workflow.from_yaml(base("    volumes: [{name: v, emptyDir: {}}]\n    sidecars: [{name: s, image: rclone, volumeMounts: [{name: v, mountPath: /m, mountPropagation: Bidirectional}]}]\n    container: {image: busybox, command: ['true']}"))).toThrow("templates.main.sidecars.s.volumeMounts.v.mountPropagation is not supported when running Argo workflows locally: a mount made inside one container of the pod (a sidecar's FUSE mount) does not reach the others locally");
    expect(() => Workflow.from_yaml(base("    daemon: true\n    hooks: {exit: {template: main}}\n    container: {image: busybox, command: [sleep, '9']}"))).toThrow("templates.main.hooks.exit is not supported when running Argo workflows locally: a daemon template's exit hook is not implemented; put it on the step or task that calls the template");
  });
});
