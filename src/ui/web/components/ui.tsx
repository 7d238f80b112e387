// Small shared pieces: phase badges, progress bars, a confirmation dialog.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { parseProgress, phaseClass, phaseSymbol } from "../lib/format";

export function PhaseBadge({ phase, label }: { phase: string | null | undefined; label?: string }) {
  return (
    <span class={`badge ${phaseClass(phase)}`}>
      <span aria-hidden="true">{phaseSymbol(phase)}</span> {label ?? phase ?? "not started"}
    </span>
  );
}

export function ProgressBar({ progress, phase }: { progress: string | null | undefined; phase?: string | null }) {
  const p = parseProgress(progress);
  if (!p) return <span class="muted">{progress ?? ""}</span>;
  const [cur, tot] = p;
  const pct = tot > 0 ? Math.round((cur / tot) * 100) : 0;
  return (
    <span class="progress" title={`${cur} of ${tot} steps succeeded`}>
      <span class="progress-track" role="progressbar" aria-valuemin={0} aria-valuemax={tot} aria-valuenow={cur} aria-label="steps succeeded">
        <span class={`progress-fill ${phaseClass(phase)}`} style={{ width: `${pct}%` }} />
      </span>
      <span class="progress-text">{progress}</span>
    </span>
  );
}

/** A modal dialog (the browser's <dialog>: focus kept inside, Escape closes). */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class="dialog" aria-label={title} onClose={onClose} onCancel={onClose}>
      {open ? (
        <>
          <h2 class="dialog-title">{title}</h2>
          {children}
        </>
      ) : null}
    </dialog>
  );
}

export function ErrorBox({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <div class="error-box" role="alert">
      {error}
    </div>
  );
}
