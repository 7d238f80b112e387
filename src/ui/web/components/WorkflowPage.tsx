// A workflow (#/workflows/<id>): its header and actions, the graph, the
// timeline, the step table, and the panel of the selected step. Live: the
// tree is read once, then patched by `steps` events and read again only on
// `tree` (structure changed). In report mode (no server) the same page is
// drawn from the data `dflow report` inlined.
import { Component } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import { Bus } from "../lib/bus";
import { elapsed, formatDuration, formatTime, isFinal } from "../lib/format";
import { buildGraph, type GNode, type GraphModel } from "../lib/graph";
import { type Layout, layoutGraph } from "../lib/layout";
import { routeHash, type Route } from "../lib/route";
import { timelineRows, timeRange } from "../lib/timeline";
import { indexSteps, patchSteps } from "../lib/tree";
import type { ReportData, StepPatch, WorkflowDetail, WorkflowJson } from "../lib/types";
import { Actions } from "./Actions";
import { Graph, type View } from "./Graph";
import { LiveDot, useEvents } from "./live";
import { GroupPanel, StepPanel } from "./StepPanel";
import { StepTable } from "./StepTable";
import { Timeline } from "./Timeline";
import { ErrorBox, PhaseBadge, ProgressBar } from "./ui";

type WfRoute = Extract<Route, { page: "workflow" }>;

export function WorkflowPage({ route, report, onUnauthorized }: { route: WfRoute; report: ReportData | null; onUnauthorized: (msg: string) => void }) {
  const id = route.id;
  const [detail, setDetail] = useState<WorkflowDetail | null>(report ? report.workflow : null);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [removed, setRemoved] = useState(false);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [caps, setCaps] = useState<Record<string, number>>({});
  const [now, setNow] = useState(Date.now());
  const index = useMemo(() => (detail ? indexSteps(detail.steps) : new Map()), [detail]);
  const logBus = useMemo(() => new Bus<string>(), [id]);
  const graphView = useMemo<{ current: View | null }>(() => ({ current: null }), [id]);

  // Reads of the tree: one at a time, at most every 500 ms, the last request always served.
  const fetching = useRef<{ busy: boolean; again: boolean; last: number; timer: ReturnType<typeof setTimeout> | null }>({ busy: false, again: false, last: 0, timer: null });
  const refetch = useCallback(() => {
    if (report) return;
    const f = fetching.current;
    if (f.busy) {
      f.again = true;
      return;
    }
    const wait = f.last + 500 - Date.now();
    if (wait > 0) {
      if (!f.timer) f.timer = setTimeout(() => ((f.timer = null), refetch()), wait);
      return;
    }
    f.busy = true;
    f.last = Date.now();
    api
      .get(id)
      .then((d) => {
        setDetail(d);
        setError(null);
        setRemoved(false);
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.unauthorized) return onUnauthorized(e.message);
        if (e instanceof ApiError && e.status === 404) setRemoved(true);
        setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        f.busy = false;
        if (f.again) {
          f.again = false;
          refetch();
        }
      });
  }, [id, report]);

  useEffect(() => {
    if (report) {
      setDetail(report.workflow);
      return;
    }
    setDetail(null);
    setOpen({});
    setCaps({});
    fetching.current.last = 0;
    refetch();
  }, [id, report]);

  const live = useEvents(
    report ? null : () => api.workflowEvents(id),
    {
      workflow: (d) => {
        const w = d as WorkflowJson;
        if (w.id !== id) return;
        setDetail((cur) => (cur ? { ...cur, ...w, steps: cur.steps, graph: cur.graph } : cur));
      },
      steps: (d) => {
        const patches = (d as { steps: StepPatch[] }).steps ?? [];
        const r = patchSteps(index, patches);
        if (r.changed) setVersion((v) => v + 1);
        if (r.unknown.length) refetch();
      },
      tree: () => refetch(),
      log: (d) => logBus.emit((d as { step: string }).step),
      removed: () => setRemoved(true),
    },
    () => refetch(),
    [id, report],
  );

  const finished = detail ? isFinal(detail.status) : false;
  useEffect(() => {
    if (report || finished || !detail) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [report, finished, !!detail]);

  const model: GraphModel | null = useMemo(() => (detail ? buildGraph(detail, { open, caps }) : null), [detail, version, open, caps]);
  // The layout depends on the model's shape only: a phase change redraws without laying out again.
  const layoutCache = useRef<Layout | null>(null);
  const layout = useMemo(() => {
    if (!model) return null;
    if (layoutCache.current?.signature !== model.signature) layoutCache.current = layoutGraph(model);
    return layoutCache.current;
  }, [model]);

  const go = (r: Partial<WfRoute>) => {
    const next = { ...route, ...r };
    location.replace(routeHash(next));
  };
  const selectedNodeId = route.step ? (model?.locate.get(route.step) ?? null) : route.node;
  const selectNode = (n: GNode) => {
    if (n.kind === "more") {
      setCaps((c) => ({ ...c, [n.parent!]: (c[n.parent!] ?? 200) + 200 }));
      return;
    }
    if (n.step) go({ step: n.step.id, node: null });
    else if (n.kind === "fanout" || n.kind === "planned") go({ step: null, node: n.id });
  };
  const toggle = (n: GNode) => setOpen((o) => ({ ...o, [n.id]: n.toggle !== "open" }));

  if (!detail) {
    return (
      <main class="page">
        <h1 class="wf-title">{id}</h1>
        <ErrorBox error={error} />
        {!error ? <p class="muted">Loading…</p> : null}
      </main>
    );
  }

  // The timeline's rows only when it shows (a collapsed fan-out's profile reads all its items).
  const rows = model && route.view === "timeline" ? timelineRows(model, now) : [];
  const range = timeRange(rows, detail.started, detail.finished, now);
  const selectedGroup = !route.step && route.node && model ? model.nodes.find((n) => n.id === route.node) ?? null : null;
  const panelOpen = !!route.step || !!selectedGroup;

  return (
    <main class={`page wf-page ${panelOpen ? "with-panel" : ""}`}>
      <header class="wf-head">
        <div class="wf-title-row">
          <h1 class="wf-title">{detail.id}</h1>
          <PhaseBadge phase={detail.status} label={detail.suspended ? `${detail.status} (suspended)` : detail.status} />
          {report ? <span class="muted small">report generated {formatTime(report.generated)}</span> : <LiveDot state={live} />}
        </div>
        <dl class="facts">
          <div>
            <dt>Type</dt>
            <dd>{detail.type ?? "?"}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd title={detail.started ?? ""}>{formatTime(detail.started) || "—"}</dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd title={detail.finished ?? ""}>{formatTime(detail.finished) || "—"}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(elapsed(detail.started, detail.finished, detail.duration, now)) || "—"}</dd>
          </div>
          <div>
            <dt>Progress</dt>
            <dd>
              <ProgressBar progress={detail.progress} phase={detail.status} />
            </dd>
          </div>
          <div>
            <dt>Steps</dt>
            <dd>{model?.stepCount ?? 0}</dd>
          </div>
        </dl>
        {detail.message ? <Message text={detail.message} /> : null}
        {removed ? (
          <div class="error-box" role="alert">
            This workflow is gone from the work directory (deleted). <a href="#/">Back to the list</a>
          </div>
        ) : (
          <ErrorBox error={error} />
        )}
        {!report && !removed ? <Actions wf={detail} onDone={() => refetch()} onDeleted={() => location.assign("#/")} /> : null}
        {report?.omitted && (report.omitted.details > 0 || report.omitted.logs > 0) ? (
          <p class="muted small">
            Every step is in this report; not in it: {report.omitted.details ? `the details (parameters, attempts) of ${report.omitted.details} steps` : ""}
            {report.omitted.details && report.omitted.logs ? ", " : ""}
            {report.omitted.logs ? `the logs of ${report.omitted.logs} steps (empty, or left out to keep the file small)` : ""}.
          </p>
        ) : null}
      </header>
      <div class="tabs" role="tablist" aria-label="views">
        {(["graph", "timeline", "steps"] as const).map((v) => (
          <button type="button" role="tab" key={v} aria-selected={route.view === v} class={`tab ${route.view === v ? "tab-on" : ""}`} onClick={() => go({ view: v })}>
            {v === "graph" ? "Graph" : v === "timeline" ? "Timeline" : "Steps"}
          </button>
        ))}
      </div>
      <div class="wf-body">
        <section class="wf-main" role="tabpanel" aria-label={route.view}>
          {route.view === "graph" && model && layout ? <StillGraph model={model} layout={layout} selected={selectedNodeId} onSelect={selectNode} onToggle={toggle} saved={graphView} /> : null}
          {route.view === "timeline" && model ? <Timeline rows={rows} range={range} now={now} selected={selectedNodeId} onSelect={selectNode} model={model} onToggle={toggle} /> : null}
          {route.view === "steps" ? <StepTable steps={detail.steps} report={report} version={version} selected={route.step} onSelect={(stepId) => go({ step: stepId, node: null })} /> : null}
        </section>
        {panelOpen ? (
          <aside class="wf-panel" aria-label="selected step">
            {route.step ? (
              <StepPanel key={route.step} wfId={id} stepId={route.step} node={index.get(route.step) ?? null} version={version} report={report} logBus={logBus} live={!report} onClose={() => go({ step: null, node: null })} />
            ) : selectedGroup ? (
              <GroupPanel key={selectedGroup.id} node={selectedGroup} onClose={() => go({ step: null, node: null })} onSelectStep={(sid) => go({ step: sid, node: null })} onToggle={() => toggle(selectedGroup)} />
            ) : null}
          </aside>
        ) : null}
      </div>
    </main>
  );
}

type GraphProps = Parameters<typeof Graph>[0];

/** The graph draws again when its model, layout or selection change, not on every tick of the page's clock. */
class StillGraph extends Component<GraphProps> {
  private readonly calls = { select: (n: GNode) => this.props.onSelect(n), toggle: (n: GNode) => this.props.onToggle(n) };
  override shouldComponentUpdate(next: GraphProps): boolean {
    const p = this.props;
    return next.model !== p.model || next.layout !== p.layout || next.selected !== p.selected || next.saved !== p.saved;
  }
  override render() {
    return <Graph {...this.props} onSelect={this.calls.select} onToggle={this.calls.toggle} />;
  }
}

function Message({ text }: { text: string }) {
  const [all, setAll] = useState(false);
  const lines = text.split("\n");
  const long = lines.length > 4 || text.length > 400;
  return (
    <div class="wf-message">
      <pre class={all || !long ? "" : "clamp"}>{text}</pre>
      {long ? (
        <button type="button" class="link-btn" onClick={() => setAll(!all)}>
          {all ? "show less" : "show all"}
        </button>
      ) : null}
    </div>
  );
}
