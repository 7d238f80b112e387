// ConfigMap volumes of container/script templates, for the one use dflow-ts's
// own export makes of them (src/argo/export-bundle.ts): the TypeScript OPs'
// bundle, shipped as a ConfigMap and mounted read-only into each TS-OP pod.
// A local run has no Kubernetes to hold the ConfigMap, so it must be given
// locally (a ConfigMap document beside the Workflow, in a `-t` file, or in
// from_yaml's `templates`); its keys become files under the volumeMount's
// mountPath inside the node's sandbox, as the kubelet projects them.
// Other volume kinds, and the fields that reshape a projection (items,
// subPath, ...), stay refused: nothing here is honoured halfway.
import fs from "node:fs";
import path from "node:path";
import { type ArgoTemplate, type Obj, ArgoSpecError, ArgoUnsupported, asList, asObj } from "./manifest.js";


/** A ConfigMap's files: `data` as text, `binaryData` decoded from base64. */
export type ConfigMapFiles = Map<string, string | Buffer>;

/** The ConfigMaps among the documents, by name. */
export function configMapsOf(docs: Obj[]): Map<string, ConfigMapFiles> {
  const out = new Map<string, ConfigMapFiles>();
  for (const d of docs) {
    if (d.kind !== "ConfigMap") continue;
    const name = String(asObj(d.metadata).name ?? "");
    const files: ConfigMapFiles = new Map();
    for (const [k, v] of Object.entries(asObj(d.data))) files.set(k, String(v));
    for (const [k, v] of Object.entries(asObj(d.binaryData))) files.set(k, Buffer.from(String(v), "base64"));
    // Kubernetes' rule for keys (IsConfigMapKey): each becomes a file name, never a path.
    for (const k of files.keys()) if (!/^[-._a-zA-Z0-9]+$/.test(k) || k === "." || k.includes("..")) throw new ArgoSpecError(`ConfigMap ${name}: invalid key ${JSON.stringify(k)} (a key is a file name: letters, digits, '-', '_', '.')`);
    out.set(name, files);
  }
  return out;
}

function refuse(where: string, why: string): never {
  throw new ArgoUnsupported(`${where} ${why}`);
}

const HOW = "pass the file that defines it (dflow run wf.yaml -t wf.ops.yaml, as `dflow export` prints, or Workflow.from_yaml(text, { templates: [configMapText] }))";

/** Refuse, in one line, any volume or volumeMount of the template but a locally given ConfigMap mounted whole. */
export function checkVolumes(t: ArgoTemplate, where: string, configMaps: Map<string, ConfigMapFiles>): void {
  const volumes = new Set<string>();
  if (t.volumes !== undefined && t.container === undefined && t.script === undefined) refuse(`${where}.volumes`, "is not supported when running Argo workflows locally: only container and script templates mount ConfigMaps");
  for (const v of asList(t.volumes)) {
    const at = `${where}.volumes.${String(v.name)}`;
    const kinds = Object.keys(v).filter((k) => k !== "name");
    if (kinds.length !== 1 || kinds[0] !== "configMap") refuse(at, `is not supported when running Argo workflows locally: only configMap volumes are (got ${kinds.join(", ") || "no source"})`);
    const cm = asObj(v.configMap);
    const extra = Object.keys(cm).filter((k) => k !== "name");
    if (extra.length) refuse(`${at}.configMap.${extra[0]}`, "is not supported when running Argo workflows locally: a ConfigMap is mounted whole");
    if (!configMaps.has(String(cm.name))) refuse(at, `needs ConfigMap ${String(cm.name)}, which is not given: ${HOW}`);
    volumes.add(String(v.name));
  }
  for (const k of ["container", "script"]) {
    for (const m of asList(asObj(t[k]).volumeMounts)) {
      const at = `${where}.${k}.volumeMounts.${String(m.name)}`;
      const extra = Object.keys(m).filter((x) => !["name", "mountPath", "readOnly"].includes(x));
      if (extra.length) refuse(`${at}.${extra[0]}`, "is not supported when running Argo workflows locally: a ConfigMap is mounted whole");
      if (!volumes.has(String(m.name))) refuse(at, `names no volume of the template (${[...volumes].join(", ") || "it has none"})`);
      if (typeof m.mountPath !== "string" || !m.mountPath.startsWith("/")) refuse(`${at}.mountPath`, "must be an absolute path");
    }
  }
}

/** The mount paths of a container/script template's volumeMounts: container paths the sandbox re-roots. */
export function mountPaths(t: ArgoTemplate): string[] {
  return asList(asObj(t.container ?? t.script).volumeMounts).map((m) => String(m.mountPath));
}

/**
 * Project each mounted ConfigMap into the node's sandbox: one read-only file
 * per key under `host(mountPath)`. (Only the files are read-only: the node's
 * directory must stay removable by `dflow delete`.)
 */
export function mountConfigMaps(t: ArgoTemplate, configMaps: Map<string, ConfigMapFiles>, host: (containerPath: string) => string): void {
  const byVolume = new Map(asList(t.volumes).map((v) => [String(v.name), String(asObj(v.configMap).name)]));
  for (const m of asList(asObj(t.container ?? t.script).volumeMounts)) {
    const files = configMaps.get(byVolume.get(String(m.name)) ?? "");
    if (!files) continue; // checked before the run: cannot happen
    const dir = host(String(m.mountPath));
    fs.mkdirSync(dir, { recursive: true });
    for (const [key, content] of files) {
      const file = path.join(dir, key);
      fs.rmSync(file, { force: true });
      fs.writeFileSync(file, content, { mode: 0o444 });
    }
  }
}
