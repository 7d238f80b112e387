// The workflows list (#/): newest first, filtered by status and name, live.
// One request for the list, then events: no request per row, so 1,000
// workflows cost one JSON document and one table.
import { Component } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import { elapsed, formatDuration, formatTime, PHASES } from "../lib/format";
import { filterWorkflows, newestFirst, statusCounts } from "../lib/list";
import { routeHash } from "../lib/route";
import type { WorkflowJson } from "../lib/types";
import { LiveDot, useEvents } from "./live";
import { ErrorBox, PhaseBadge, ProgressBar } from "./ui";

// Rows drawn at first (and per "show more"): the browser lays out a 1,000-row table in about a second on a busy machine.
const PAGE = 250;

/** A row renders again only when its workflow or its clock changed. */
class Row extends Component<{ w: WorkflowJson; now: number }> {
  override shouldComponentUpdate(next: { w: WorkflowJson; now: number }): boolean {
    return next.w !== this.props.w || next.now !== this.props.now;
  }
  override render() {
    return <RowView w={this.props.w} now={this.props.now} />;
  }
}

function RowView({ w, now }: { w: WorkflowJson; now: number }) {
  return (
    <tr class={`row-${w.status}`}>
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
      <td class="num">{formatDuration(elapsed(w.started, w.finished, w.duration, now || Date.now()))}</td>
      <td>
        <ProgressBar progress={w.progress} phase={w.status} />
      </td>
      <td class="msg" title={w.message ?? ""}>
        {w.message ? w.message.split("\n")[0] : ""}
      </td>
    </tr>
  );
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
  const counts = useMemo(() => statusCounts(all), [all]);
  const running = all.some((w) => !w.finished && w.started);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);

  const shown = useMemo(() => filterWorkflows(all, status, name), [all, status, name]);

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
          <colgroup>
            <col class="c-id" />
            <col class="c-status" />
            <col class="c-started" />
            <col class="c-dur" />
            <col class="c-prog" />
            <col />
          </colgroup>
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
              // Only running rows get the ticking clock: a finished row never renders again unless it changes.
              <Row key={w.id} w={w} now={w.finished || !w.started ? 0 : now} />
            ))}
          </tbody>
        </table>
      ) : null}
      {all.length > 0 && shown.length === 0 ? <p class="empty">No workflow matches these filters.</p> : null}
      {shown.length > limit ? (
        <p>
          <button type="button" class="btn" onClick={() => setLimit((l) => l + PAGE)}>
            Show {Math.min(PAGE, shown.length - limit)} more
          </button>{" "}
          <button type="button" class="btn" onClick={() => setLimit(Infinity)}>
            Show all {shown.length}
          </button>{" "}
          <span class="muted small">
            {limit} of {shown.length} shown
          </span>
        </p>
      ) : null}
    </main>
  );
}
