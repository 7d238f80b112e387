// Every step in one table (the report's main view): name, phase, start,
// duration, message and, when the data has them (a report), parameters.
// Filtered by phase and name, sorted by order, duration or phase, paged.
import { useMemo, useState } from "preact/hooks";
import { elapsed, formatDuration, formatTime, formatValue, phaseClass, phaseSymbol } from "../lib/format";
import { flattenSteps } from "../lib/graph";
import type { IO, ReportData, StepNode } from "../lib/types";

const PAGE = 200;

type Sort = "order" | "duration" | "phase";

function rank(p: string): number {
  return p === "Failed" || p === "Error" ? 0 : p === "Running" ? 1 : p === "Pending" ? 2 : p === "Succeeded" ? 3 : 4;
}

function paramsText(io: IO | undefined): string {
  const ps = Object.entries(io?.parameters ?? {});
  return ps
    .map(([k, p]) => {
      const v = formatValue(p.value).replace(/\s+/g, " ").trim();
      return `${k}=${v.length > 60 ? `${v.slice(0, 59)}…` : v}`;
    })
    .join(", ");
}

export function StepTable({ steps, report, version, selected, onSelect }: { steps: StepNode[]; report: ReportData | null; version: number; selected: string | null; onSelect: (stepId: string) => void }) {
  const [phase, setPhase] = useState("");
  const [name, setName] = useState("");
  const [sort, setSort] = useState<Sort>("order");
  const [pods, setPods] = useState(true);
  const [limit, setLimit] = useState(PAGE);
  const now = Date.now();
  const all = useMemo(() => flattenSteps(steps), [steps, version]);
  const phases = useMemo(() => [...new Set(all.map((s) => s.phase))].sort((a, b) => rank(a) - rank(b)), [all]);
  const rows = useMemo(() => {
    const needle = name.trim().toLowerCase();
    const l = all.filter((s) => (!pods || s.type === "Pod") && (!phase || s.phase === phase) && (!needle || s.name.toLowerCase().includes(needle) || (s.key ?? "").toLowerCase().includes(needle) || s.id.includes(needle)));
    if (sort === "duration") l.sort((a, b) => (elapsed(b.started, b.finished, b.duration, now) ?? -1) - (elapsed(a.started, a.finished, a.duration, now) ?? -1));
    else if (sort === "phase") l.sort((a, b) => rank(a.phase) - rank(b.phase));
    return l;
  }, [all, phase, name, sort, pods, version]);
  const withParams = !!report;
  return (
    <div class="step-table">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Phase{" "}
          <select value={phase} onChange={(e) => (setPhase((e.target as HTMLSelectElement).value), setLimit(PAGE))}>
            <option value="">all</option>
            {phases.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name <input type="search" value={name} onInput={(e) => (setName((e.target as HTMLInputElement).value), setLimit(PAGE))} placeholder="name, key or id" />
        </label>
        <label>
          Sort{" "}
          <select value={sort} onChange={(e) => setSort((e.target as HTMLSelectElement).value as Sort)}>
            <option value="order">in order</option>
            <option value="duration">slowest first</option>
            <option value="phase">failed first</option>
          </select>
        </label>
        <label>
          <input type="checkbox" checked={pods} onChange={(e) => setPods((e.target as HTMLInputElement).checked)} /> only Pod steps
        </label>
        <span class="muted small">
          {rows.length} of {all.length} steps
        </span>
      </form>
      <table class="table small">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Phase</th>
            <th scope="col">Started</th>
            <th scope="col" class="num">
              Duration
            </th>
            <th scope="col">Message</th>
            {withParams ? <th scope="col">Parameters (in → out)</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, limit).map((s) => {
            const d = report?.steps[s.id];
            return (
              <tr key={s.id} class={selected === s.id ? "selected" : ""}>
                <td>
                  <button type="button" class="link-btn" onClick={() => onSelect(s.id)} title={s.id}>
                    {s.key ?? (s.item !== null && s.item !== undefined ? `${s.name}[${s.item}]` : s.name)}
                  </button>
                  {s.type !== "Pod" ? <span class="muted"> {s.type}</span> : null}
                </td>
                <td class="nowrap">
                  <span class={`ph-text ${phaseClass(s.phase)}`} aria-hidden="true">
                    {phaseSymbol(s.phase)}
                  </span>{" "}
                  {s.phase}
                </td>
                <td class="nowrap" title={s.started ?? ""}>{formatTime(s.started)}</td>
                <td class="num">{formatDuration(elapsed(s.started, s.finished, s.duration, now))}</td>
                <td class="msg" title={s.message ?? ""}>
                  {s.message?.split("\n")[0] ?? ""}
                </td>
                {withParams ? (
                  <td class="params-cell">
                    {d ? (
                      <>
                        <div>{paramsText(d.inputs)}</div>
                        {paramsText(d.outputs) ? <div class="muted">→ {paramsText(d.outputs)}</div> : null}
                      </>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length > limit ? (
        <button type="button" class="btn small" onClick={() => setLimit(limit + PAGE)}>
          Show {Math.min(PAGE, rows.length - limit)} more of {rows.length - limit}
        </button>
      ) : null}
    </div>
  );
}
