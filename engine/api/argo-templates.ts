// WorkflowTemplates and ClusterWorkflowTemplates of the Argo Server API,
// stored in the work directory (<root>/.argo-templates/namespaces/<ns>/<name>.json
// and .../cluster/<name>.json), linted before they are stored, and handed to
// workflows created over the API for workflowTemplateRef / templateRef; and
// the ConfigMaps and Secrets created through the Kubernetes API, handed to
// the namespace's workflows (volumes, env, parameters, semaphore limits).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeAtomicSync } from "../store/fsx.js";
import { configMapsOf } from "../argo/volumes.js";
import { ArgoApiError, type Obj, asObj, checkName, k8sTime, lintManifest, namespacesIn } from "./argo-shapes.js";
import { SyncLimits } from "./argo-sync.js";

export type TemplateKind = "WorkflowTemplate" | "ClusterWorkflowTemplate";
/** The Kubernetes objects a namespace's workflows read (kept beside its templates). */
export type ObjectKind = "ConfigMap" | "Secret";

export class TemplateStore {
  /** The limits of semaphores (SyncService): the database's table, and ConfigMap keys of this store. */
  readonly sync: SyncLimits;

  constructor(readonly root: string) {
    this.sync = new SyncLimits(root, this);
  }

  private dir(kind: TemplateKind, namespace: string): string {
    return kind === "ClusterWorkflowTemplate" ? path.join(this.root, ".argo-templates", "cluster") : path.join(this.root, ".argo-templates", "namespaces", checkName(namespace, "namespace"));
  }

  private file(kind: TemplateKind, namespace: string, name: string): string {
    return path.join(this.dir(kind, namespace), `${checkName(name, `${kind} name`)}.json`);
  }

  private notFound(kind: TemplateKind, name: string): ArgoApiError {
    return new ArgoApiError(5, `${kind === "ClusterWorkflowTemplate" ? "clusterworkflowtemplates" : "workflowtemplates"}.argoproj.io "${name}" not found`);
  }

  get(kind: TemplateKind, namespace: string, name: string): Obj {
    try {
      return JSON.parse(fs.readFileSync(this.file(kind, namespace, name), "utf8")) as Obj;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw this.notFound(kind, name);
      throw e;
    }
  }

  /** The templates of `namespace`, or of every namespace for "" (Argo's UI lists them so before one is chosen). */
  list(kind: TemplateKind, namespace: string, namePattern?: string): Obj[] {
    if (!namespace && kind === "WorkflowTemplate") return namespacesIn(path.join(this.root, ".argo-templates", "namespaces")).flatMap((ns) => this.list(kind, ns, namePattern));
    const dir = this.dir(kind, namespace);
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
    } catch {
      // none stored yet
    }
    return names
      .map((f) => f.slice(0, -".json".length))
      .filter((n) => !namePattern || n.includes(namePattern))
      .sort()
      .map((n) => this.get(kind, namespace, n));
  }

  /**
   * Texts of the templates a workflow of `namespace` may reference, and of the
   * namespace's ConfigMaps and Secrets it may use (volumes, env, parameters,
   * semaphore limits; for the manifest loader); "": cluster templates only.
   */
  library(namespace: string): Array<{ text: string; source: string }> {
    const docs = [...(namespace ? [...this.list("WorkflowTemplate", namespace), ...this.objects("ConfigMap", namespace), ...this.objects("Secret", namespace)] : []), ...this.list("ClusterWorkflowTemplate", namespace)];
    return docs.map((t) => ({ text: JSON.stringify(t), source: `${String(t.kind)} ${String(asObj(t.metadata).name)}` }));
  }

  // ConfigMaps and Secrets created through the Kubernetes API (<root>/.argo-templates/configmaps|secrets/<ns>/<name>.json).
  private objectFile(kind: ObjectKind, namespace: string, name: string): string {
    return path.join(this.root, ".argo-templates", kind === "Secret" ? "secrets" : "configmaps", checkName(namespace, "namespace"), `${checkName(name, `${kind} name`)}.json`);
  }

  private notFoundObject(kind: ObjectKind, name: string): ArgoApiError {
    return new ArgoApiError(5, `${kind === "Secret" ? "secrets" : "configmaps"} "${name}" not found`);
  }

  /** The namespace's ConfigMaps (or Secrets), by name. */
  objects(kind: ObjectKind, namespace: string): Obj[] {
    const dir = path.dirname(this.objectFile(kind, namespace, "x"));
    const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];
    return names.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Obj);
  }

  object(kind: ObjectKind, namespace: string, name: string): Obj {
    const file = this.objectFile(kind, namespace, name);
    if (!fs.existsSync(file)) throw this.notFoundObject(kind, name);
    return JSON.parse(fs.readFileSync(file, "utf8")) as Obj;
  }

  /**
   * Store a ConfigMap or Secret of the namespace (create: refused when it
   * exists; else replace), its keys checked as Kubernetes does; a Secret's
   * stringData is kept as data (base64), as the API server keeps it.
   */
  putObject(kind: ObjectKind, namespace: string, given: Obj, create: boolean): Obj {
    const meta = asObj(given.metadata);
    const name = typeof meta.name === "string" ? meta.name : "";
    if (!name) throw new ArgoApiError(3, `the ${kind} has no metadata.name`);
    const file = this.objectFile(kind, namespace, name);
    const old = fs.existsSync(file) ? asObj((JSON.parse(fs.readFileSync(file, "utf8")) as Obj).metadata) : undefined;
    if (create && old) throw new ArgoApiError(6, `${kind === "Secret" ? "secrets" : "configmaps"} "${name}" already exists`);
    if (!create && !old) throw this.notFoundObject(kind, name);
    const body: Obj =
      kind === "Secret"
        ? { type: given.type ?? "Opaque", data: { ...asObj(given.data), ...Object.fromEntries(Object.entries(asObj(given.stringData)).map(([k, v]) => [k, Buffer.from(String(v)).toString("base64")])) } }
        : { ...(given.data !== undefined ? { data: given.data } : {}), ...(given.binaryData !== undefined ? { binaryData: given.binaryData } : {}) };
    const out: Obj = { apiVersion: "v1", kind, metadata: storedMeta(kind, { ...meta, name }, namespace, old && { metadata: old }), ...body };
    try {
      configMapsOf([out]);
    } catch (e) {
      throw new ArgoApiError(3, (e as Error).message);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeAtomicSync(file, JSON.stringify(out));
    return out;
  }

  deleteObject(kind: ObjectKind, namespace: string, name: string): void {
    this.object(kind, namespace, name);
    fs.rmSync(this.objectFile(kind, namespace, name));
  }

  /** The template as it would be stored: kind, name (generateName honoured), namespace; linted. */
  prepare(kind: TemplateKind, namespace: string, template: unknown, existing?: Obj): Obj {
    const t = asObj(template);
    if (!template || typeof template !== "object") throw new ArgoApiError(3, "template is required");
    if (t.kind !== undefined && t.kind !== kind) throw new ArgoApiError(3, `template.kind is ${JSON.stringify(t.kind)}, expected ${kind}`);
    const out: Obj = { apiVersion: "argoproj.io/v1alpha1", kind, metadata: storedMeta(kind, asObj(t.metadata), kind === "WorkflowTemplate" ? namespace : undefined, existing), spec: asObj(t.spec) };
    if (kind === "ClusterWorkflowTemplate") delete (out.metadata as Obj).namespace;
    this.lint(kind, namespace, out);
    return out;
  }

  /** What `argo template lint` checks: the templates load and every one is runnable here. */
  lint(kind: TemplateKind, namespace: string, t: Obj): void {
    const spec = asObj(t.spec);
    const templates = Array.isArray(spec.templates) ? (spec.templates as Obj[]) : [];
    if (!templates.length) throw new ArgoApiError(3, `${kind} ${String(asObj(t.metadata).name)}: spec.templates must hold at least one template`);
    const name = String(asObj(t.metadata).name);
    // A workflow that uses the whole template, checked as a workflow of the namespace would be.
    const probe = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "lint", ...(namespace ? { namespace } : {}) }, spec: { workflowTemplateRef: { name, ...(kind === "ClusterWorkflowTemplate" ? { clusterScope: true } : {}) }, ...(spec.entrypoint ? {} : { entrypoint: String(templates[0]?.name ?? "") }) } };
    const others = this.library(namespace).filter((x) => x.source !== `${kind} ${name}`);
    lintManifest(probe, [...others, { text: JSON.stringify(t), source: `${kind} ${name}` }], this.sync.table());
  }

  create(kind: TemplateKind, namespace: string, template: unknown): Obj {
    const t = this.prepare(kind, namespace, template);
    const name = String(asObj(t.metadata).name);
    const file = this.file(kind, namespace, name);
    if (fs.existsSync(file)) throw new ArgoApiError(6, `${kind === "ClusterWorkflowTemplate" ? "clusterworkflowtemplates" : "workflowtemplates"}.argoproj.io "${name}" already exists`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeAtomicSync(file, JSON.stringify(t));
    return t;
  }

  update(kind: TemplateKind, namespace: string, name: string, template: unknown): Obj {
    const old = this.get(kind, namespace, name);
    const given = asObj(template);
    const meta = asObj(given.metadata);
    if (meta.name !== undefined && meta.name !== name) throw new ArgoApiError(3, `template.metadata.name ${JSON.stringify(meta.name)} does not match the name in the path (${name})`);
    const t = this.prepare(kind, namespace, { ...given, metadata: { ...meta, name } }, old);
    writeAtomicSync(this.file(kind, namespace, name), JSON.stringify(t));
    return t;
  }

  delete(kind: TemplateKind, namespace: string, name: string): void {
    const file = this.file(kind, namespace, name);
    if (!fs.existsSync(file)) throw this.notFound(kind, name);
    fs.rmSync(file);
  }
}

/**
 * An object's metadata as the API server keeps it: its name (generateName
 * honoured, checked), `namespace` when it has one, the uid and
 * creationTimestamp it had (`existing`) or gets now, resourceVersion one more.
 */
export function storedMeta(kind: string, given: Obj, namespace: string | undefined, existing?: Obj): Obj {
  let name = typeof given.name === "string" ? given.name : "";
  if (!name && typeof given.generateName === "string" && given.generateName) name = `${given.generateName}${randomSuffix()}`;
  if (!name) throw new ArgoApiError(3, `${kind}.argoproj.io "" is invalid: metadata.name: Required value: name or generateName is required`);
  checkName(name, `${kind} name`);
  const old = asObj(existing?.metadata);
  return { ...given, name, ...(namespace !== undefined ? { namespace } : {}), uid: old.uid ?? crypto.randomUUID(), creationTimestamp: old.creationTimestamp ?? k8sTime(new Date()), resourceVersion: String(Number(old.resourceVersion ?? 0) + 1) };
}

/** Kubernetes' generateName suffix: five lower-case letters and digits. */
export function randomSuffix(): string {
  const abc = "bcdfghjklmnpqrstvwxz2456789";
  return Array.from(crypto.randomBytes(5), (b) => abc[b % abc.length]).join("");
}
