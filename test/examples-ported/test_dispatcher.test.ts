// Port of dflow's examples/test_dispatcher.py against the local Slurm (see
// test/hpc/README.md): test_python's Duplicate, with a list output, sent to
// the cluster by a DispatcherExecutor over SSH. Runs when DFLOW_TEST_HPC
// names the cluster's hpc.json; skips otherwise.
//
// dflow logs in with username/password on port 31129 of its docker Slurm
// (scripts/start-slurm.sh) and queue "normal"; the local cluster takes a key
// and has the partition hpc.defaultPartition, so those two options differ.
import { describe, expect, it } from "vitest";
import fs from "node:fs";
import { DispatcherExecutor, Step, TsOPTemplate, Workflow, download_artifact, upload_artifact } from "dflow-ts";
import { Duplicate } from "../../fixtures/ops/examples/test_dispatcher.js";
import { announceSkip, hpcInfo } from "../support/hpc.js";
import { read, useTempWorkdir } from "../support/workdir.js";

const hpc = hpcInfo();
if (!hpc) announceSkip();
const d = hpc ? describe : describe.skip;

function make_idir() {
  fs.mkdirSync("tidir", { recursive: true });
  fs.writeFileSync("tidir/f1", "foo");
  fs.writeFileSync("tidir/f2", "bar");
}

d("examples/test_dispatcher", () => {
  useTempWorkdir();

  it("test_dispatcher", async () => {
    const wf = new Workflow({ name: "dispatcher" });
    fs.writeFileSync("foo.txt", "Hi");
    make_idir();
    const artifact0 = await upload_artifact("foo.txt");
    const artifact1 = await upload_artifact("tidir");

    const dispatcher_executor = new DispatcherExecutor({
      host: hpc!.host,
      username: hpc!.user,
      port: hpc!.port,
      queue_name: hpc!.defaultPartition,
      remote_root: `${hpc!.homeDir}/dflow-tests/port-dispatcher`,
      private_key_file: hpc!.privateKeyPath,
      known_hosts: hpc!.knownHostsPath,
      poll_interval: 0.5,
    });
    const step = new Step({
      name: "step",
      template: new TsOPTemplate(Duplicate),
      parameters: { msg: "Hello", num: 3 },
      artifacts: { foo: artifact0, idir: artifact1 },
      executor: dispatcher_executor,
    });
    wf.add(step);
    const r = await wf.submit();

    expect(wf.query_status(), r.error?.message).toBe("Succeeded");
    const s = wf.query_step({ name: "step" })[0];
    expect(s.phase).toBe("Succeeded");
    // dflow prints the downloads and the msg value with its type (a list).
    await download_artifact(s.outputs.artifacts.bar);
    await download_artifact(s.outputs.artifacts.odir);
    expect(read("output.txt")).toBe("HiHiHi");
    expect(read("todir/f1")).toBe("foofoofoo");
    expect(read("todir/f2")).toBe("barbarbar");
    expect(s.outputs.parameters.msg.value).toEqual(["HelloHelloHello"]);
    // It really ran as a Slurm job.
    expect(fs.existsSync(`${s.dir}/job_ids`)).toBe(true);
  });
});
