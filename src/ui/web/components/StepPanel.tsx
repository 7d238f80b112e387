// The panel of the selected step (name, key, phase, template type, times,
// attempts with their reasons, parameters, artifacts, log, cluster jobs), and
// the panel of a fan-out group (its counts and its items, failed ones first).
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import type { Bus } from "../lib/bus";
import { countsText, elapsed, formatDuration, formatTime, formatValue, isFinal, ms, phaseClass, phaseSymbol } from "../lib/format";
import type { GNode } from "../lib/graph";
import type { IO, ReportData, StepDetail, StepNode } from "../lib/types";
import { FileBrowser } from "./FileBrowser";
import { LogView } from "./LogView";
import { ErrorBox, PhaseBadge, ProgressBar } from "./ui";

function Close({ onClose }: { onClose: () => void }) {
  return (
    <button type="button" class="btn small close" onClick={onClose} aria-label="close the panel">
      ✕
    </button>
  );
}

export function StepPanel({ wfId, stepId, node, version, report, logBus, live, onClose }: { wfId: string; stepId: string; node: StepNode | null; version: number; report: ReportData | null; logBus: Bus<string>; live: boolean; onClose: () => void }) {
  const [detail, setDetail] = useState<StepDetail | null>(report ? (report.steps[stepId] ?? null) : null);
  const [error, setError] = useState<string | null>(null);
  const phase = node?.phase ?? detail?.phase;
  const finished = node?.finished ?? detail?.finished ?? null;

  // Read again when the step's phase or end changes (outputs appear when it ends).
  useEffect(() => {
    if (report) {
      setDetail(report.steps[stepId] ?? null);
      return;
    }
    let alive = true;
    api
      .step(wfId, stepId)
      .then((d) => {
        if (!alive) return;
        setDetail(d);
        setError(null);
      })
      .catch((e: unknown) => alive && setError(e instanceof ApiError && e.status === 404 ? "This step is not in the workflow any more." : e instanceof Error ? e.message : String(e)));
    return () => {
      alive = false;
    };
  }, [wfId, stepId, report, phase, finished]);

  // The tree's node is the freshest (patched by events); the detail adds inputs, outputs, attempts.
  const s: StepDetail | null = detail || node ? ({ ...(detail ?? {}), ...(node ?? {}) } as StepDetail) : null;
  void version;
  if (!s) {
    return (
      <div class="panel">
        <div class="panel-head">
          <h2>{stepId}</h2>
          <Close onClose={onClose} />
        </div>
        <ErrorBox error={error ?? (report ? "This step is not in the report." : null)} />
        {!error && !report ? <p class="muted">Loading…</p> : null}
      </div>
    );
  }
  const running = !isFinal(s.phase);
  const dur = elapsed(s.started, s.finished, s.duration, Date.now());
  const reportLog = report ? (report.logs[stepId] ?? "") : null;
  return (
    <div class="panel">
      <div class="panel-head">
        <h2 title={s.name}>{s.name}</h2>
        <PhaseBadge phase={s.phase} />
        <Close onClose={onClose} />
      </div>
      <ErrorBox error={error} />
      <table class="facts-table small">
        <tbody>
          <Fact k="Step id" v={<code>{s.id}</code>} />
          {s.key ? <Fact k="Key" v={<code>{s.key}</code>} /> : null}
          <Fact k="Type" v={s.type} />
          {s.template ? <Fact k="Template" v={<code>{s.template}</code>} /> : null}
          {s.item !== null && s.item !== undefined ? <Fact k="Item" v={String(s.item)} /> : null}
          <Fact k="Started" v={<span title={s.started ?? ""}>{formatTime(s.started) || "—"}</span>} />
          <Fact k="Finished" v={<span title={s.finished ?? ""}>{formatTime(s.finished) || "—"}</span>} />
          <Fact k="Duration" v={formatDuration(dur) || "—"} />
          {s.progress ? <Fact k="Progress" v={<ProgressBar progress={s.progress} phase={s.phase} />} /> : null}
          {s.pid ? <Fact k="Pid" v={String(s.pid)} /> : null}
          {s.cluster ? (
            <Fact
              k="Cluster"
              v={
                <span title={s.cluster.remote_dir ?? ""}>
                  {s.cluster.batch_type} on <code>{s.cluster.host}</code>
                  {s.cluster.remote_dir ? <> in <code class="break">{s.cluster.remote_dir}</code></> : null}
                </span>
              }
            />
          ) : null}
          {s.job_ids && s.job_ids.length ? <Fact k={s.cluster ? `${s.cluster.batch_type} job ids` : "Cluster jobs"} v={<code>{s.job_ids.join(", ")}</code>} /> : null}
          <Fact k="Directory" v={<code class="break">{s.dir}</code>} />
        </tbody>
      </table>
      {s.message ? (
        <section>
          <h3>Message</h3>
          <pre class={`msg-text ${phaseClass(s.phase)}`}>{s.message}</pre>
        </section>
      ) : null}
      {s.attempts && s.attempts.length ? (
        <section>
          <h3>Attempts ({s.attempts.length} before the last)</h3>
          <ol class="attempts">
            {s.attempts.map((a) => (
              <li key={a.attempt}>
                <div>
                  <strong>Attempt {a.attempt}</strong>
                  {a.log && live ? (
                    <>
                      {" · "}
                      <a href={api.downloadUrl(wfId, a.log)} download>
                        its log
                      </a>
                    </>
                  ) : null}
                </div>
                {a.message ? <pre class="msg-text">{a.message}</pre> : null}
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {detail ? (
        <>
          <Params title="Input parameters" io={detail.inputs} />
          <Params title="Output parameters" io={detail.outputs} />
        </>
      ) : report ? (
        <p class="muted small">The report keeps no parameters of this step.</p>
      ) : null}
      {s.type === "Pod" ? (
        <section>
          <h3>Log</h3>
          <LogView wfId={wfId} stepId={stepId} running={running && live} logBus={live ? logBus : null} reportText={reportLog} logPath={detail?.log ?? null} />
        </section>
      ) : (
        <ChildrenSummary node={node} />
      )}
      {detail ? (
        <>
          <Artifacts title="Input artifacts" io={detail.inputs} wfId={wfId} live={live} />
          <Artifacts title="Output artifacts" io={detail.outputs} wfId={wfId} live={live} />
        </>
      ) : null}
      {detail?.script && live ? (
        <section>
          <h3>Script</h3>
          <FileBrowser wfId={wfId} root={detail.script} name="script" />
        </section>
      ) : null}
    </div>
  );
}

function Fact({ k, v }: { k: string; v: ComponentChildren }) {
  return (
    <tr>
      <th scope="row">{k}</th>
      <td>{v}</td>
    </tr>
  );
}

function Params({ title, io }: { title: string; io: IO | undefined }) {
  const ps = Object.entries(io?.parameters ?? {});
  if (!ps.length) return null;
  return (
    <section>
      <h3>{title}</h3>
      <table class="table params small">
        <tbody>
          {ps.map(([k, p]) => (
            <tr key={k}>
              <th scope="row">
                {k}
                {p.type ? <div class="muted">{p.type}</div> : null}
              </th>
              <td>
                <pre class="value">{formatValue(p.value)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Artifacts({ title, io, wfId, live }: { title: string; io: IO | undefined; wfId: string; live: boolean }) {
  const as = Object.entries(io?.artifacts ?? {});
  if (!as.length) return null;
  return (
    <section>
      <h3>{title}</h3>
      {as.map(([k, a]) =>
        a.path && live ? (
          <FileBrowser key={k} wfId={wfId} root={a.path} name={k} />
        ) : (
          <div key={k} class="small">
            <strong>{k}</strong> <code class="muted">{a.path ?? "(none)"}</code>
            {a.target ? <code class="muted"> → {a.target}</code> : null}
          </div>
        ),
      )}
    </section>
  );
}

function ChildrenSummary({ node }: { node: StepNode | null }) {
  if (!node?.children?.length) return null;
  const c: Record<string, number> = {};
  for (const ch of node.children) c[ch.phase] = (c[ch.phase] ?? 0) + 1;
  return (
    <section>
      <h3>Steps inside</h3>
      <p class="small">
        {node.children.length} steps: {countsText(c)}
      </p>
    </section>
  );
}

const PAGE = 100;

function rank(p: string): number {
  return p === "Failed" || p === "Error" ? 0 : p === "Running" ? 1 : p === "Pending" ? 2 : 3;
}

/** A fan-out group (or a step that has not started): its counts and its items, failed and running first. */
export function GroupPanel({ node, onClose, onSelectStep, onToggle }: { node: GNode; onClose: () => void; onSelectStep: (id: string) => void; onToggle: () => void }) {
  const [limit, setLimit] = useState(PAGE);
  const [filter, setFilter] = useState("");
  const items = node.items ?? [];
  const sorted = useMemo(() => [...items].sort((a, b) => rank(a.phase) - rank(b.phase) || (a.item ?? 0) - (b.item ?? 0)), [items, items.length, node.detail]);
  const shown = filter ? sorted.filter((i) => i.phase === filter) : sorted;
  const durs = items
    .filter((i) => i.finished && i.duration !== null)
    .map((i) => i.duration!)
    .sort((a, b) => a - b);
  const q = (f: number) => durs[Math.min(durs.length - 1, Math.floor(f * durs.length))]!;
  const starts = items.map((i) => ms(i.started)).filter((t): t is number => t !== null);
  if (node.kind === "planned") {
    return (
      <div class="panel">
        <div class="panel-head">
          <h2>{node.label}</h2>
          <PhaseBadge phase={null} label={node.detail} />
          <Close onClose={onClose} />
        </div>
        <p class="muted">This step has no step directory: it has not started{node.detail === "not run" ? ", and the workflow ended without running it (a failed dependency, or a condition)" : " yet"}.</p>
        <p class="small">Type: {node.type}</p>
      </div>
    );
  }
  return (
    <div class="panel">
      <div class="panel-head">
        <h2>{node.label}</h2>
        <PhaseBadge phase={node.phase} />
        <Close onClose={onClose} />
      </div>
      <p>
        A fan-out of {items.length} items: <strong>{node.detail}</strong>{" "}
        <button type="button" class="btn small" onClick={onToggle}>
          {node.toggle === "open" ? "Collapse in the graph" : "Expand in the graph"}
        </button>
      </p>
      {durs.length ? (
        <p class="small">
          Durations of the {durs.length} finished: min {formatDuration(durs[0])}, median {formatDuration(q(0.5))}, 90% {formatDuration(q(0.9))}, max {formatDuration(durs[durs.length - 1])}
          {starts.length ? ` · first started ${formatTime(new Date(Math.min(...starts)).toISOString())}` : ""}
        </p>
      ) : null}
      <label class="small">
        Show{" "}
        <select value={filter} onChange={(e) => (setFilter((e.target as HTMLSelectElement).value), setLimit(PAGE))}>
          <option value="">all</option>
          {Object.keys(node.counts ?? {}).map((p) => (
            <option key={p} value={p}>
              {p} ({node.counts![p]})
            </option>
          ))}
        </select>
      </label>
      <table class="table small items-table">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Phase</th>
            <th scope="col" class="num">
              Duration
            </th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, limit).map((i) => (
            <tr key={i.id}>
              <td>
                <button type="button" class="link-btn" onClick={() => onSelectStep(i.id)}>
                  {i.key ?? `${i.name}[${i.item ?? "?"}]`}
                </button>
              </td>
              <td>
                <span class={`ph-text ${phaseClass(i.phase)}`}>{phaseSymbol(i.phase)}</span> {i.phase}
              </td>
              <td class="num">{formatDuration(elapsed(i.started, i.finished, i.duration, Date.now()))}</td>
              <td class="msg" title={i.message ?? ""}>
                {i.message?.split("\n")[0] ?? ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length > limit ? (
        <button type="button" class="btn small" onClick={() => setLimit(limit + PAGE)}>
          Show {Math.min(PAGE, shown.length - limit)} more of {shown.length - limit}
        </button>
      ) : null}
    </div>
  );
}
