/** Shell (spec §5.9): resources ignored except for the exported variables. */
import type { BatchScriptGenerator } from "./common.js";

export const shell: BatchScriptGenerator = {
  batchType: "Shell",
  header: () => "\n#!/bin/bash -l\n",
};
