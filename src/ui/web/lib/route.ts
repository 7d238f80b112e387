// The page's routes, in the URL's hash (the server serves one page):
//   #/                                   the workflows list (?status=&name= filters)
//   #/workflows/<id>                     a workflow (?view=graph|timeline|steps, &step=<stepId> or &node=<graph node>)
export type Route =
  | { page: "list"; status: string; name: string }
  | { page: "workflow"; id: string; view: "graph" | "timeline" | "steps"; step: string | null; node: string | null };

const VIEWS = new Set(["graph", "timeline", "steps"]);

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, "") || "/";
  const q = h.indexOf("?");
  const path = q >= 0 ? h.slice(0, q) : h;
  const params = new URLSearchParams(q >= 0 ? h.slice(q + 1) : "");
  const m = /^\/workflows\/([^/?#]+)\/?$/.exec(path);
  if (m) {
    let id = m[1]!;
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep it as it is
    }
    const v = params.get("view") ?? "graph";
    return { page: "workflow", id, view: (VIEWS.has(v) ? v : "graph") as "graph" | "timeline" | "steps", step: params.get("step"), node: params.get("node") };
  }
  return { page: "list", status: params.get("status") ?? "", name: params.get("name") ?? "" };
}

export function routeHash(r: Route): string {
  const p = new URLSearchParams();
  if (r.page === "list") {
    if (r.status) p.set("status", r.status);
    if (r.name) p.set("name", r.name);
    const s = p.toString();
    return `#/${s ? `?${s}` : ""}`;
  }
  if (r.view !== "graph") p.set("view", r.view);
  if (r.step) p.set("step", r.step);
  else if (r.node) p.set("node", r.node);
  const s = p.toString();
  return `#/workflows/${encodeURIComponent(r.id)}${s ? `?${s}` : ""}`;
}
