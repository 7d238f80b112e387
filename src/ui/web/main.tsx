// The page of `dflow ui` (served with the JSON API) and of `dflow report`
// (the same bundle with window.__DFLOW_REPORT__ set: no server, no network).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ListPage } from "./components/ListPage";
import { WorkflowPage } from "./components/WorkflowPage";
import { initToken } from "./lib/api";
import { parseRoute, routeHash, type Route } from "./lib/route";
import type { ReportData } from "./lib/types";
import "./styles.css";

declare global {
  interface Window {
    __DFLOW_REPORT__?: ReportData;
  }
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

function App({ report }: { report: ReportData | null }) {
  const route = useRoute();
  const [auth, setAuth] = useState<string | null>(null);
  const wfRoute: Extract<Route, { page: "workflow" }> | null = report
    ? route.page === "workflow"
      ? { ...route, id: report.workflow.id }
      : { page: "workflow", id: report.workflow.id, view: "graph", step: null, node: null }
    : route.page === "workflow"
      ? route
      : null;
  useEffect(() => {
    document.title = report ? `dflow report: ${report.workflow.id} (${report.workflow.status})` : wfRoute ? `${wfRoute.id} · dflow ui` : "Workflows · dflow ui";
  }, [wfRoute?.id, report]);
  return (
    <>
      <header class="topbar">
        <a href={report ? routeHash({ page: "workflow", id: report.workflow.id, view: "graph", step: null, node: null }) : "#/"} class="brand">
          dflow
        </a>
        {report ? (
          <span class="crumb">report</span>
        ) : (
          <nav aria-label="breadcrumb" class="crumb">
            <a href="#/">Workflows</a>
            {wfRoute ? (
              <>
                {" / "}
                <span aria-current="page">{wfRoute.id}</span>
              </>
            ) : null}
          </nav>
        )}
      </header>
      {auth ? (
        <div class="auth-box" role="alert">
          <strong>No access.</strong> Open the URL that <code>dflow ui</code> printed: it ends with <code>?token=…</code>. The page keeps the token for the next visits (until the server restarts with a new one).
          <div class="muted small">The server said: {auth}</div>
        </div>
      ) : null}
      {wfRoute ? <WorkflowPage route={wfRoute} report={report} onUnauthorized={setAuth} /> : route.page === "list" ? <ListPage status={route.status} name={route.name} onUnauthorized={setAuth} /> : null}
    </>
  );
}

const report = window.__DFLOW_REPORT__ ?? null;
if (!report) initToken();
render(<App report={report} />, document.getElementById("app")!);
