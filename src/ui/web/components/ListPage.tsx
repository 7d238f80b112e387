// The workflows list (#/): newest first, filtered by status and name, live.
// One request for the list, then events: no request per row, so 1,000
// workflows cost one JSON document and one table.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import { elapsed, formatDuration, formatTime, ms, PHASES } from "../lib/format";
import { routeHash } from "../lib/route";
import type { WorkflowJson } from "../lib/types";
import { LiveDot, useEvents } from "./live";
import { ErrorBox, PhaseBadge, ProgressBar } from "./ui";

const PAGE = 1000;

function newestFirst(a: WorkflowJson, b: WorkflowJson): number {
  const ta = ms(a.started) ?? Infinity;
  const tb = ms(b.started) ?? Infinity;
  return tb - ta || a.id.localeCompare(b.id);
}

export function ListPage({ status, name, onUnauthorized }: { status: string; name: string; onUnauthorized: (msg: string) => void }) {
  const [rows, setRows] = useState<Map<string, WorkflowJson> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [limit, setLimit] = useState(PAGE);
  const [now, setNow] = useState(Date.now());
  const [nameText, setNameText] = useState(name);

  const load = () =>
    api
      .list()
      .then((l) => {
        setRows(new Map(l.map((w) => [w.id, w])));
        setError(null);
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.unauthorized) onUnauthorized(e.message);
        else setError(e instanceof Error ? e.message : String(e));
      });

  useEffect(() => {
    void load();
  }, []);

  const live = useEvents(
    () => api.listEvents(),
    {
      workflow: (d) => {
        const w = d as WorkflowJson;
        setRows((m) => new Map(m ?? []).set(w.id, w));
      },
      removed: (d) => {
        const id = (d as { id: string }).id;
        setRows((m) => {
          if (!m?.has(id)) return m;
          const n = new Map(m);
          n.delete(id);
          return n;
        });
      },
    },
    () => void load(),
    [],
  );

  const all = useMemo(() => [...(rows?.values() ?? [])].sort(newestFirst), [rows]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const w of all) c[w.status] = (c[w.status] ?? 0) + 1;
    return c;
  }, [all]);
  const running = all.some((w) => !w.finished && w.started);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);

  const needle = name.trim().toLowerCase();
  const shown = useMemo(() => all.filter((w) => (!status || w.status === status) && (!needle || w.id.toLowerCase().includes(needle))), [all, status, needle]);

  const setFilter = (s: string, n: string) => {
    location.replace(routeHash({ page: "list", status: s, name: n }));
  };
  useEffect(() => setNameText(name), [name]);

  const statuses = [...PHASES.filter((p) => p !== "Skipped" && p !== "Omitted"), ...Object.keys(counts).filter((s) => !(PHASES as readonly string[]).includes(s))];

  return (
    <main class="page list-page">
      <div class="page-head">
        <h1>Workflows</h1>
        <LiveDot state={live} />
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status{" "}
          <select value={status} onChange={(e) => setFilter((e.target as HTMLSelectElement).value, nameText)}>
            <option value="">all ({all.length})</option>
            {statuses.map((s) => (
              <option value={s} key={s}>
                {s} ({counts[s] ?? 0})
              </option>
            ))}
          </select>
        </label>
        <label>
          Name{" "}
          <input
            type="search"
            value={nameText}
            placeholder="part of the id"
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              setNameText(v);
              setFilter(status, v);
            }}
          />
        </label>
        <span class="chips" aria-label="workflows by status">
          {Object.entries(counts)
            .sort((a, b) => statuses.indexOf(a[0]) - statuses.indexOf(b[0]))
            .map(([s, n]) => (
              <button type="button" key={s} class={`chip ph-${s} ${status === s ? "chip-on" : ""}`} aria-pressed={status === s} onClick={() => setFilter(status === s ? "" : s, nameText)}>
                {s} {n}
              </button>
            ))}
        </span>
      </form>
      <ErrorBox error={error} />
      {rows === null && !error ? <p class="muted">Loading…</p> : null}
      {rows !== null && all.length === 0 ? (
        <p class="empty">
          No workflows in this work directory yet. Run one (<code>npx dflow run my-workflow.ts</code>) and it appears here.
        </p>
      ) : null}
      {all.length > 0 ? (
        <table class="table wf-table">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col" class="num">
                Duration
              </th>
              <th scope="col">Progress</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {shown.slice(0, limit).map((w) => (
              <tr key={w.id} class={`row-${w.status}`}>
                <td>
                  <a href={routeHash({ page: "workflow", id: w.id, view: "graph", step: null, node: null })} class="wf-link">
                    {w.id}
                  </a>
                  {w.type ? <span class="muted small"> {w.type}</span> : null}
                </td>
                <td>
                  <PhaseBadge phase={w.status} label={w.suspended ? `${w.status} (suspended)` : w.status} />
                </td>
                <td title={w.started ?? ""}>{formatTime(w.started)}</td>
                <td class="num">{formatDuration(elapsed(w.started, w.finished, w.duration, now))}</td>
                <td>
                  <ProgressBar progress={w.progress} phase={w.status} />
                </td>
                <td class="msg" title={w.message ?? ""}>
                  {w.message ? w.message.split("\n")[0] : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {all.length > 0 && shown.length === 0 ? <p class="empty">No workflow matches these filters.</p> : null}
      {shown.length > limit ? (
        <button type="button" class="btn" onClick={() => setLimit((l) => l + PAGE)}>
          Show {Math.min(PAGE, shown.length - limit)} more (of {shown.length - limit})
        </button>
      ) : null}
    </main>
  );
}
