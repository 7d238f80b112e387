// The workflow's actions (the same code paths as `dflow stop|retry|resubmit|delete`,
// through the server), each behind a confirmation, disabled when it does not
// apply, with the server's answer (message or error) shown.
import { useState } from "preact/hooks";
import { api } from "../lib/api";
import { isActive } from "../lib/format";
import { routeHash } from "../lib/route";
import type { WorkflowJson } from "../lib/types";
import { Dialog } from "./ui";

type Name = "stop" | "suspend" | "resume" | "retry" | "resubmit" | "delete";

interface Spec {
  label: string;
  title: string;
  text: string;
  danger?: boolean;
  enabled: boolean;
  why: string;
}

export function actionSpecs(wf: WorkflowJson): Record<Name, Spec> {
  const active = isActive(wf.status);
  const failed = wf.status === "Failed" || wf.status === "Error";
  return {
    stop: { label: "Stop", title: `Stop ${wf.id}?`, text: "Its running steps are killed (and its cluster jobs cancelled); the workflow ends Failed, with the reason recorded. Retry can pick it up later.", danger: true, enabled: active, why: "it is not running" },
    suspend: { label: "Suspend", title: `Suspend ${wf.id}?`, text: "No new step starts until it is resumed; running steps finish.", enabled: active && !wf.suspended, why: wf.suspended ? "it is suspended already" : "it is not running" },
    resume: { label: "Resume", title: `Resume ${wf.id}?`, text: "New steps start again.", enabled: active && wf.suspended, why: "it is not suspended" },
    retry: { label: "Retry", title: `Retry ${wf.id}?`, text: "Runs the workflow again in the background, reusing the steps that succeeded and running the failed ones again (dflow retry).", enabled: !active && failed, why: active ? "it is still running" : "it did not fail" },
    resubmit: { label: "Resubmit", title: `Resubmit ${wf.id}?`, text: "Runs the same script again as a new workflow, in the background (dflow resubmit).", enabled: !active, why: "it is still running" },
    delete: { label: "Delete", title: `Delete ${wf.id}?`, text: "Removes the workflow's directory: its steps, logs and artifacts it owns. This cannot be undone.", danger: true, enabled: true, why: "" },
  };
}

/** `dflow resubmit` says which workflow it started ("Workflow <id> is running in the background..."): link to it. */
export function startedWorkflowId(text: string): string | null {
  return /\bWorkflow ([a-z0-9][a-z0-9-]*[a-z0-9]) is running/i.exec(text)?.[1] ?? /\(ID: ([a-z0-9][a-z0-9-]*[a-z0-9])\)/.exec(text)?.[1] ?? null;
}

function NewWorkflowLink({ text, current }: { text: string; current: string }) {
  const id = startedWorkflowId(text);
  if (!id || id === current) return null;
  return (
    <>
      {" "}
      <a href={routeHash({ page: "workflow", id, view: "graph", step: null, node: null })}>open {id}</a>
    </>
  );
}

export function Actions({ wf, onDone, onDeleted }: { wf: WorkflowJson; onDone: () => void; onDeleted: () => void }) {
  const [asking, setAsking] = useState<Name | null>(null);
  const [busy, setBusy] = useState(false);
  const [force, setForce] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const specs = actionSpecs(wf);
  const active = isActive(wf.status);
  const order: Name[] = ["stop", wf.suspended ? "resume" : "suspend", "retry", "resubmit", "delete"];

  const run = async (name: Name) => {
    setBusy(true);
    try {
      const r = name === "delete" ? await api.remove(wf.id, force) : await api.action(wf.id, name);
      setResult({ ok: true, text: r.message });
      setAsking(null);
      if (name === "delete") onDeleted();
      else onDone();
    } catch (e) {
      setResult({ ok: false, text: e instanceof Error ? e.message : String(e) });
      setAsking(null);
    } finally {
      setBusy(false);
    }
  };

  const spec = asking ? specs[asking] : null;
  return (
    <div class="actions" role="group" aria-label="actions">
      {order.map((n) => {
        const s = specs[n];
        return (
          <button
            type="button"
            key={n}
            class={`btn ${s.danger ? "btn-danger" : ""}`}
            disabled={!s.enabled || busy}
            title={s.enabled ? s.text : `${s.label}: not now, ${s.why}`}
            onClick={() => {
              setForce(false);
              setResult(null);
              setAsking(n);
            }}
          >
            {s.label}
          </button>
        );
      })}
      {result ? (
        <span class={result.ok ? "action-ok" : "action-error"} role={result.ok ? "status" : "alert"}>
          {result.text}
          {result.ok ? <NewWorkflowLink text={result.text} current={wf.id} /> : null}
        </span>
      ) : null}
      <Dialog open={!!asking} title={spec?.title ?? ""} onClose={() => !busy && setAsking(null)}>
        {spec && asking ? (
          <form
            method="dialog"
            onSubmit={(e) => {
              e.preventDefault();
              void run(asking);
            }}
          >
            <p>{spec.text}</p>
            {asking === "delete" && active ? (
              <label class="force">
                <input type="checkbox" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} /> It is still running: stop it first and delete it anyway (force)
              </label>
            ) : null}
            <div class="dialog-buttons">
              <button type="button" class="btn" onClick={() => setAsking(null)} disabled={busy} autoFocus>
                Cancel
              </button>
              <button type="submit" class={`btn ${spec.danger ? "btn-danger" : "btn-primary"}`} disabled={busy || (asking === "delete" && active && !force)}>
                {busy ? "…" : spec.label}
              </button>
            </div>
          </form>
        ) : null}
      </Dialog>
    </div>
  );
}
