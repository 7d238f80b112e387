// startup-one-step: the smallest real workflow, one shell step.
import { ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { timed } from "./report.js";

const wf = new Workflow({ name: "one-step" });
wf.add(new Step({ name: "hello", template: new ShellOPTemplate({ name: "hello", script: "echo hello" }) }));
await timed(wf, () => null);
