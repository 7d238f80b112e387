// An artifact (or any path of the workflow) as a small file browser: a
// directory's listing, a text file shown inline (its first 256 kB), images
// shown, files and directories (as .tar.gz) downloadable.
import { useEffect, useState } from "preact/hooks";
import { api, linkUrl } from "../lib/api";
import { formatBytes } from "../lib/format";
import type { DirListing } from "../lib/types";

type Loaded = { kind: "dir"; listing: DirListing } | { kind: "file"; text: string; truncated: boolean; binary: boolean; size: number | null; type: string };

function join(a: string, b: string): string {
  return a ? `${a.replace(/\/+$/, "")}/${b}` : b;
}

export function FileBrowser({ wfId, root, name, startOpen = false }: { wfId: string; root: string; name: string; startOpen?: boolean }) {
  const [open, setOpen] = useState(startOpen);
  const [path, setPath] = useState(root);
  const [got, setGot] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    let alive = true;
    setGot(null);
    setError(null);
    api
      .file(wfId, path)
      .then((r) => alive && setGot(r))
      .catch((e: unknown) => alive && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      alive = false;
    };
  }, [open, path, wfId]);

  const rel = path.slice(root.length).replace(/^\/+/, "");
  const crumbs = rel ? rel.split("/") : [];
  return (
    <div class="files">
      <div class="files-head">
        <button type="button" class="link-btn" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? "▾" : "▸"} {name}
        </button>
        <code class="small muted">{root}</code>
        <a class="small" href={api.downloadUrl(wfId, path)} download>
          download{got?.kind === "dir" ? " (.tar.gz)" : ""}
        </a>
      </div>
      {open ? (
        <div class="files-body">
          {crumbs.length ? (
            <nav class="crumbs small" aria-label="path">
              <button type="button" class="link-btn" onClick={() => setPath(root)}>
                {name}
              </button>
              {crumbs.map((c, i) => (
                <span key={i}>
                  {" / "}
                  <button type="button" class="link-btn" onClick={() => setPath(join(root, crumbs.slice(0, i + 1).join("/")))}>
                    {c}
                  </button>
                </span>
              ))}
            </nav>
          ) : null}
          {error ? <div class="error-box small">{error}</div> : null}
          {!got && !error ? <div class="muted small">Loading…</div> : null}
          {got?.kind === "dir" ? (
            got.listing.entries.length === 0 ? (
              <div class="muted small">(empty directory)</div>
            ) : (
              <table class="table files-table small">
                <tbody>
                  {got.listing.entries.map((e) => (
                    <tr key={e.name}>
                      <td>
                        <button type="button" class="link-btn" onClick={() => setPath(join(path, e.name))}>
                          {e.type === "dir" ? "📁 " : e.type === "link" ? "↪ " : ""}
                          {e.name}
                          {e.type === "dir" ? "/" : ""}
                        </button>
                      </td>
                      <td class="num">{e.type === "dir" ? "" : formatBytes(e.size)}</td>
                      <td>
                        <a href={api.downloadUrl(wfId, join(path, e.name))} download aria-label={`download ${e.name}`}>
                          ⤓
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          ) : null}
          {got?.kind === "file" ? (
            got.binary ? (
              got.type.startsWith("image/") ? (
                <img class="file-img" src={linkUrl(api.fileUrl(wfId, path))} alt={path} />
              ) : (
                <div class="muted small">
                  A binary file{got.size !== null ? ` of ${formatBytes(got.size)}` : ""} ({got.type || "unknown type"}): download it.
                </div>
              )
            ) : (
              <>
                <pre class="file-text">{got.text || "(empty file)"}</pre>
                {got.truncated ? <div class="muted small">Only the first 256 kB{got.size !== null ? ` of ${formatBytes(got.size)}` : ""} are shown: download the file for the rest.</div> : null}
              </>
            )
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
