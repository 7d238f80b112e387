// CPython's random (src/py-random.ts), for DPDispatcher's task order.
import { PyRandom } from "../../src/py-random.js";

export { PyRandom };

/** `random.seed(42); idx = list(range(n)); random.shuffle(idx)` — DPDispatcher's task order. */
export function shuffleSeed42(n: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  return new PyRandom(42).shuffle(idx);
}
