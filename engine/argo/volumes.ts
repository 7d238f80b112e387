// Volumes of container/script templates, as a local run can give them.
// - configMap, secret: a ConfigMap or Secret given locally (a document beside
//   the Workflow, in a `-t` file, in from_yaml's `templates`, or created on
//   dflow server; a ConfigMap is what dflow-ts's own export ships the
//   TypeScript OPs' bundle in): its keys become read-only files under the
//   mountPath inside the node's sandbox, as the kubelet projects them.
// - emptyDir: a directory of the pod's own (its node directory's volumes/).
// - a claim of spec.volumeClaimTemplates: a directory of the workflow's own
//   (<workflow dir>/volumes/<name>), shared by its pods, kept with the run.
// - persistentVolumeClaim of an existing claim: a directory of the work
//   directory (.argo-volumes/<claimName>), shared by every workflow there.
// - hostPath: that directory of this machine.
// A directory volume is mounted where the pod sees it: the sandbox maps its
// mountPath to the directory (and binds it there in the pod's mount
// namespace). readOnly and size limits are not enforced. Other volume kinds,
// and the fields that reshape a ConfigMap's projection (items, subPath, ...),
// stay refused: nothing here is honoured halfway.
import fs from "node:fs";
import path from "node:path";
import { type ArgoTemplate, type Obj, ArgoSpecError, ArgoUnsupported, asList, asObj } from "./manifest.js";


/** A ConfigMap's files: `data` as text, `binaryData` decoded from base64. */
export type ConfigMapFiles = Map<string, string | Buffer>;

/**
 * The name a Secret is kept under among the ConfigMaps: Secrets given locally
 * travel with them (to a retry too), and no ConfigMap name has a '/'.
 */
export function secretEntry(name: string): string {
  return `Secret/${name}`;
}

/** The ConfigMaps and Secrets among the documents (a Secret under secretEntry(name)), by name. */
export function configMapsOf(docs: Obj[]): Map<string, ConfigMapFiles> {
  const out = new Map<string, ConfigMapFiles>();
  for (const d of docs) {
    if (d.kind !== "ConfigMap" && d.kind !== "Secret") continue;
    const name = String(asObj(d.metadata).name ?? "");
    const files: ConfigMapFiles = new Map();
    if (d.kind === "ConfigMap") {
      for (const [k, v] of Object.entries(asObj(d.data))) files.set(k, String(v));
      for (const [k, v] of Object.entries(asObj(d.binaryData))) files.set(k, Buffer.from(String(v), "base64"));
    } else {
      // A Secret's data is base64, its stringData plain text (which wins, as the API server merges it).
      for (const [k, v] of Object.entries(asObj(d.data))) files.set(k, Buffer.from(String(v), "base64").toString("utf8"));
      for (const [k, v] of Object.entries(asObj(d.stringData))) files.set(k, String(v));
    }
    // Kubernetes' rule for keys (IsConfigMapKey): each becomes a file name, never a path.
    for (const k of files.keys()) if (!/^[-._a-zA-Z0-9]+$/.test(k) || k === "." || k.includes("..")) throw new ArgoSpecError(`${String(d.kind)} ${name}: invalid key ${JSON.stringify(k)} (a key is a file name: letters, digits, '-', '_', '.')`);
    out.set(d.kind === "Secret" ? secretEntry(name) : name, files);
  }
  return out;
}

function refuse(where: string, why: string): never {
  throw new ArgoUnsupported(`${where} ${why}`);
}

/** How to give a ConfigMap or Secret a workflow needs, locally and on dflow server. */
export const how = (kind: "ConfigMap" | "Secret") =>
  `pass the file that defines it (dflow run wf.yaml -t wf.ops.yaml, as \`dflow export\` prints, or Workflow.from_yaml(text, { templates: [${kind === "Secret" ? "secretText" : "configMapText"}] })); on dflow server, create it in the workflow's namespace (POST /api/v1/namespaces/<namespace>/${kind === "Secret" ? "secrets" : "configmaps"})`;

/** Where the volumes a template may mount are declared: the template's own, the workflow's, and its claim templates. */
interface VolumeScope {
  spec: Obj;
  configMaps: Map<string, ConfigMapFiles>;
}

const DIR_KINDS = ["emptyDir", "persistentVolumeClaim", "hostPath"];
const FILE_KINDS = ["configMap", "secret"];

function volumeKind(v: Obj, at: string, configMaps: Map<string, ConfigMapFiles>): string {
  const kinds = Object.keys(v).filter((k) => k !== "name");
  if (kinds.length !== 1 || (!FILE_KINDS.includes(kinds[0]!) && !DIR_KINDS.includes(kinds[0]!))) refuse(at, `is not supported when running Argo workflows locally: only configMap, secret, emptyDir, persistentVolumeClaim and hostPath volumes are (got ${kinds.join(", ") || "no source"})`);
  const kind = kinds[0]!;
  const src = asObj(v[kind]);
  const allowed: Record<string, string[]> = { configMap: ["name", "optional"], secret: ["secretName", "optional"], emptyDir: ["medium", "sizeLimit"], persistentVolumeClaim: ["claimName", "readOnly"], hostPath: ["path", "type"] };
  const extra = Object.keys(src).filter((k) => !allowed[kind]!.includes(k));
  if (extra.length) refuse(`${at}.${kind}.${extra[0]}`, `is not supported when running Argo workflows locally${FILE_KINDS.includes(kind) ? `: a ${kind === "secret" ? "Secret" : "ConfigMap"} is mounted whole` : ""}`);
  if (kind === "configMap") checkConfigMapRef(configMaps, src, at, { key: false });
  if (kind === "secret") checkConfigMapRef(configMaps, { name: src.secretName, optional: src.optional }, at, { key: false, secret: true });
  if (kind === "persistentVolumeClaim" && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(String(src.claimName ?? ""))) refuse(`${at}.persistentVolumeClaim.claimName`, `must be a claim name (lower-case letters, digits, '-', '.'), got ${JSON.stringify(src.claimName ?? null)}`);
  if (kind === "hostPath" && !String(src.path ?? "").startsWith("/")) refuse(`${at}.hostPath.path`, "must be an absolute path");
  return kind;
}

/** The workflow's own volumes (spec.volumes) and claim templates, checked. */
export function checkWorkflowVolumes(spec: Obj, configMaps: Map<string, ConfigMapFiles>): void {
  for (const v of asList(spec.volumes)) volumeKind(v, `spec.volumes.${String(v.name)}`, configMaps);
  for (const [i, c] of asList(spec.volumeClaimTemplates).entries()) {
    const name = asObj(c.metadata).name;
    if (typeof name !== "string" || !name) throw new ArgoSpecError(`invalid spec: spec.volumeClaimTemplates[${i}] has no metadata.name`);
  }
}

/**
 * The volumes a template may mount: the workflow's, then those of the
 * (Cluster)WorkflowTemplate it comes from (templateRef), when it does.
 */
export function volumeSpec(workflow: Obj, stored?: Obj): Obj {
  if (!stored) return workflow;
  return { volumes: [...asList(workflow.volumes), ...asList(stored.volumes)], volumeClaimTemplates: [...asList(workflow.volumeClaimTemplates), ...asList(stored.volumeClaimTemplates)] };
}

/** The volume a mount names: the template's, else the workflow's, else a claim template (then {name, claimTemplate: true}). */
function volumeNamed(name: string, t: ArgoTemplate, spec: Obj): Obj | undefined {
  return asList(t.volumes).find((v) => v.name === name) ?? asList(spec.volumes).find((v) => v.name === name) ?? (asList(spec.volumeClaimTemplates).some((c) => asObj(c.metadata).name === name) ? { name, claimTemplate: true } : undefined);
}

/** Refuse, in one line, any volume or volumeMount of the template that a local run cannot give. */
export function checkVolumes(t: ArgoTemplate, where: string, scope: VolumeScope): void {
  if (t.containerSet !== undefined) {
    // A containerSet's containers share directories of the pod: emptyDir volumes (run.ts containerSet).
    for (const v of asList(t.volumes)) if (v.emptyDir === undefined) refuse(`${where}.volumes.${String(v.name)}`, "is not supported when running Argo workflows locally: a containerSet's volumes are emptyDir ones");
    return;
  }
  if (t.volumes !== undefined && asList(t.volumes).length && t.container === undefined && t.script === undefined) refuse(`${where}.volumes`, "is not supported when running Argo workflows locally: only container, script and containerSet templates mount volumes");
  for (const v of asList(t.volumes)) volumeKind(v, `${where}.volumes.${String(v.name)}`, scope.configMaps);
  // The pod's containers: main, and its sidecars and init containers (run.ts sideContainer).
  const containers = [...["container", "script"].map((k) => [k, asObj(t[k])] as const), ...["sidecars", "initContainers"].flatMap((k) => asList(t[k]).map((c) => [`${k}.${String(c.name)}`, c] as const))];
  for (const [k, c] of containers) {
    for (const m of asList(c.volumeMounts)) {
      const at = `${where}.${k}.volumeMounts.${String(m.name)}`;
      // A name made of tags ({{inputs.parameters.vol}}) is known when the pod runs: checked then (volumeBinds).
      const v = String(m.name).includes("{{") ? {} : volumeNamed(String(m.name), t, scope.spec);
      if (!v) refuse(at, `names no volume of the template, of spec.volumes or of spec.volumeClaimTemplates`);
      const files = v.configMap !== undefined || v.secret !== undefined;
      const fields = files ? ["name", "mountPath", "readOnly"] : ["name", "mountPath", "readOnly", "subPath"];
      const extra = Object.keys(m).filter((x) => !fields.includes(x));
      const why = extra[0] === "mountPropagation" ? ": a mount made inside one container of the pod (a sidecar's FUSE mount) does not reach the others locally" : files ? `: a ${v.secret !== undefined ? "Secret" : "ConfigMap"} is mounted whole` : "";
      if (extra.length) refuse(`${at}.${extra[0]}`, `is not supported when running Argo workflows locally${why}`);
      if (typeof m.mountPath !== "string" || !m.mountPath.startsWith("/")) refuse(`${at}.mountPath`, "must be an absolute path");
      if (m.subPath !== undefined && (typeof m.subPath !== "string" || m.subPath.startsWith("/") || m.subPath.split("/").includes(".."))) refuse(`${at}.subPath`, "must be a relative path inside the volume");
    }
  }
}

/** Where a pod's directory volumes live on this machine: the pod's, the workflow's and the work directory's places for them. */
export interface VolumeDirs {
  pod: string;
  workflow: string;
  work: string;
}

/**
 * The directory each directory-volume mount of a container/script template is,
 * as [mountPath, directory] (subPath applied), made to exist. ConfigMap mounts
 * are not among them (mountConfigMaps writes their files).
 */
export function volumeBinds(t: ArgoTemplate, spec: Obj, dirs: VolumeDirs): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of asList(asObj(t.container ?? t.script).volumeMounts)) {
    const v = volumeNamed(String(m.name), t, spec);
    if (!v) throw new ArgoUnsupported(`volumeMounts.${String(m.name)} names no volume of the template, of spec.volumes or of spec.volumeClaimTemplates`);
    if (v.configMap !== undefined || v.secret !== undefined) continue;
    const base = v.claimTemplate
      ? path.join(dirs.workflow, "volumes", String(v.name))
      : v.emptyDir !== undefined
        ? path.join(dirs.pod, "volumes", String(v.name))
        : v.persistentVolumeClaim !== undefined
          ? path.join(dirs.work, ".argo-volumes", String(asObj(v.persistentVolumeClaim).claimName))
          : String(asObj(v.hostPath).path);
    const dir = m.subPath ? path.join(base, String(m.subPath)) : base;
    fs.mkdirSync(dir, { recursive: true });
    out.push([path.posix.resolve(String(m.mountPath)), dir]);
  }
  return out;
}

/** A key of a ConfigMap (or Secret) given locally, as text; undefined when it or the key is not given. */
export function configMapKey(configMaps: Map<string, ConfigMapFiles>, ref: Obj, secret = false): string | undefined {
  const name = String(ref.name ?? "");
  const v = configMaps.get(secret ? secretEntry(name) : name)?.get(String(ref.key ?? ""));
  return v === undefined ? undefined : String(v);
}

/** The keys of a ConfigMap (or Secret) given locally; none when it is not given. */
export function configMapEntries(configMaps: Map<string, ConfigMapFiles>, name: string, secret = false): Array<[string, string]> {
  return [...(configMaps.get(secret ? secretEntry(name) : name) ?? [])].map(([k, v]) => [k, String(v)]);
}

/**
 * Refuse, in one line, a reference to a ConfigMap (configMapKeyRef, or a
 * whole configMapRef when `key` is false) that is not given, unless the
 * reference is optional or has a fallback.
 */
export function checkConfigMapRef(configMaps: Map<string, ConfigMapFiles>, ref: Obj, where: string, o: { key: boolean; fallback?: boolean; secret?: boolean }): void {
  const kind = o.secret ? "Secret" : "ConfigMap";
  const name = String(ref.name ?? "");
  if (!name || (o.key && !ref.key)) refuse(where, `must name a ${kind}${o.key ? " and a key" : ""}`);
  if (ref.optional === true || o.fallback) return;
  const cm = configMaps.get(o.secret ? secretEntry(name) : name);
  if (!cm) refuse(where, `needs ${kind} ${name}, which is not given: ${how(kind)}`);
  if (o.key && !cm.has(String(ref.key))) refuse(where, `needs key ${String(ref.key)} of ${kind} ${name}, which it does not have`);
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
export function mountConfigMaps(t: ArgoTemplate, scope: VolumeScope, host: (containerPath: string) => string): void {
  for (const m of asList(asObj(t.container ?? t.script).volumeMounts)) {
    const v = volumeNamed(String(m.name), t, scope.spec);
    if (v?.configMap === undefined && v?.secret === undefined) continue;
    const files = scope.configMaps.get(v.secret !== undefined ? secretEntry(String(asObj(v.secret).secretName)) : String(asObj(v.configMap).name));
    const dir = host(String(m.mountPath));
    fs.mkdirSync(dir, { recursive: true });
    if (!files) continue; // an optional one not given: an empty directory, as Kubernetes mounts it
    for (const [key, content] of files) {
      const file = path.join(dir, key);
      fs.rmSync(file, { force: true });
      fs.writeFileSync(file, content, { mode: 0o444 });
    }
  }
}
