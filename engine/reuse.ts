// reuse_step (spec §7.3): before the workflow runs, each reused step that
// has a key gets <wfdir>/<key>/ with its name, type, phase and recorded
// inputs and outputs; when the workflow reaches a step with that key, the
// step is skipped and its outputs taken from there (§7.2).
import fs from "node:fs";
import path from "node:path";
import type { ArgoStep } from "./api/steps-on-disk.js";
import { mergeInto } from "./artifacts/place.js";
import { symlinkAtomic, writeAtomicSync } from "./store/fsx.js";
import { encodeValue, pyJson } from "./store/values.js";

export async function applyReuse(wfdir: string, steps: ArgoStep[], log: (l: string) => void = () => undefined, artroot = path.dirname(wfdir)): Promise<number> {
  let n = 0;
  const merged = new Set<string>();
  for (const s of steps) {
    if (!s.key) continue; // dflow ignores steps without key
    if (s.phase !== "Succeeded") {
      // dflow would "restart" it without a script and fail; we leave it out.
      log(`reuse_step: step ${s.key} is ${s.phase}, not Succeeded: not reused`);
      continue;
    }
    const dir = path.join(wfdir, s.key);
    fs.mkdirSync(dir, { recursive: true });
    writeAtomicSync(path.join(dir, "name"), s.displayName);
    writeAtomicSync(path.join(dir, "type"), s.type);
    for (const io of ["inputs", "outputs"] as const) {
      const rec = s[io];
      const pdir = path.join(dir, io, "parameters");
      fs.mkdirSync(pdir, { recursive: true });
      fs.mkdirSync(path.join(dir, io, "artifacts"), { recursive: true });
      for (const p of Object.values(rec.parameters)) {
        writeAtomicSync(path.join(pdir, p.name), encodeValue(p.value));
        if (p.type) {
          fs.mkdirSync(path.join(pdir, ".dflow"), { recursive: true });
          writeAtomicSync(path.join(pdir, ".dflow", p.name), pyJson({ type: p.type }));
        }
      }
      for (const a of Object.values(rec.artifacts)) await symlinkAtomic(a.local_path, path.join(dir, io, "artifacts", a.name));
    }
    // A reused item of a sliced step merged its outputs into its old workflow's group storage
    // (<artroot>/<old id>/<group>); this workflow merges into its own, so that storage is linked
    // into it first (dflow links the group dir with linktree): the merged outputs keep the reused items.
    const key = s.inputs.parameters.dflow_artifact_key?.value;
    if (typeof key === "string" && key.startsWith(`${s.workflow}/`)) {
      const mine = path.join(artroot, path.basename(wfdir), key.slice(s.workflow.length + 1));
      if (!merged.has(mine)) {
        merged.add(mine);
        await mergeInto(path.join(artroot, key), mine, "symlink");
      }
    }
    writeAtomicSync(path.join(dir, "phase"), s.phase);
    n++;
  }
  return n;
}
