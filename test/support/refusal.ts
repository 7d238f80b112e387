// The DflowConfigError a call throws, for tests of what the SDK refuses.
import { expect } from "vitest";
import { DflowConfigError } from "dflow-ts";

export function refusal(f: () => unknown): DflowConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DflowConfigError);
    return e as DflowConfigError;
  }
  throw new Error("expected a DflowConfigError, nothing was thrown");
}
