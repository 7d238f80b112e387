// The engine's memory in long runs. A 100,000-step fan-out reached 641 MB
// RSS although its live heap stayed under 30 MB (measured with a full GC
// forced every few seconds): V8 sizes its old generation for a 24 GB machine
// and lets the short-lived garbage of each step (promises, strings, buffers
// that outlive a scavenge while the step's process runs) pile up. So every
// CHECK_EVERY finished steps the engine reads its RSS, and past the
// threshold asks V8 for a full collection (~10-50 ms, once per thousands of
// steps). After each collection the threshold is set again to what the
// collection left plus HEADROOM, never below BASE: a workflow whose live
// data really is large is not collected over and over, and the threshold
// comes down again when the data goes. (It used to only rise, to 1.5x the
// RSS after each collection; RSS that a collection did not give back then
// raised it step by step, and a 100,000-step run ended at 633 MB.)
import v8 from "node:v8";
import vm from "node:vm";

const CHECK_EVERY = 256;
const MB = 1024 * 1024;
const BASE = 192 * MB;
const HEADROOM = 64 * MB;
let thresholdBytes = BASE;
let finished = 0;
let gc: (() => void) | null | undefined;

function loadGc(): (() => void) | null {
  try {
    // Node's documented way to reach V8's gc() without starting node with --expose-gc.
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  } catch {
    return null;
  }
}

/** Called once per finished step (any phase). */
export function stepFinished(): void {
  if (++finished % CHECK_EVERY !== 0 || process.memoryUsage.rss() < thresholdBytes) return;
  gc ??= loadGc();
  if (!gc) return;
  gc();
  thresholdBytes = Math.max(BASE, process.memoryUsage.rss() + HEADROOM);
}
