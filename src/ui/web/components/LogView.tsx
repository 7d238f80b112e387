// A step's log: its last 64 kB first, then what is appended, read from the
// offset reached whenever the server says the log grew (a `log` event), and
// every few seconds as a fallback while the step runs. Follows the end unless
// the reader scrolled up. In report mode: the log's end that the report kept.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import type { Bus } from "../lib/bus";
import { formatBytes } from "../lib/format";

const TAIL = 65536;
const KEEP = 1024 * 1024;

export function LogView({ wfId, stepId, running, logBus, reportText, logPath }: { wfId: string; stepId: string; running: boolean; logBus: Bus<string> | null; reportText: string | null; logPath: string | null }) {
  const [text, setText] = useState(reportText ?? "");
  const [skipped, setSkipped] = useState(0);
  const [size, setSize] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const [wrap, setWrap] = useState(true);
  const [loaded, setLoaded] = useState(reportText !== null);
  const pre = useRef<HTMLPreElement>(null);
  const state = useRef({ offset: -TAIL, busy: false, again: false, dropped: 0 });

  useEffect(() => {
    if (reportText !== null || !logBus) return;
    state.current = { offset: -TAIL, busy: false, again: false, dropped: 0 };
    setText("");
    setLoaded(false);
    let alive = true;
    const pull = () => {
      const s = state.current;
      if (s.busy) {
        s.again = true;
        return;
      }
      s.busy = true;
      api
        .log(wfId, stepId, s.offset)
        .then((c) => {
          if (!alive) return;
          const first = s.offset < 0;
          if (first) setSkipped(Math.max(0, c.size - c.text.length));
          s.offset = c.offset;
          setSize(c.size);
          setError(null);
          setLoaded(true);
          if (c.text) {
            setText((t) => {
              let all = first ? c.text : t + c.text;
              if (all.length > KEEP) {
                s.dropped += all.length - KEEP;
                all = all.slice(all.length - KEEP);
              }
              return all;
            });
          }
        })
        .catch((e: unknown) => {
          if (!alive) return;
          setLoaded(true);
          setError(e instanceof ApiError && e.status === 404 ? "No log yet." : e instanceof Error ? e.message : String(e));
        })
        .finally(() => {
          s.busy = false;
          if (s.again && alive) {
            s.again = false;
            pull();
          }
        });
    };
    pull();
    const off = logBus.on((sid) => {
      if (sid === stepId) pull();
    });
    const poll = running ? setInterval(pull, 3000) : null;
    return () => {
      alive = false;
      off();
      if (poll) clearInterval(poll);
    };
  }, [wfId, stepId, running, reportText]);

  // Follow the end.
  useEffect(() => {
    const el = pre.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [text, follow]);
  const onScroll = () => {
    const el = pre.current;
    if (!el) return;
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (atEnd !== follow) setFollow(atEnd);
  };

  const dropped = skipped + state.current.dropped;
  return (
    <div class="log">
      <div class="log-tools">
        {logBus ? (
          <label>
            <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> follow
          </label>
        ) : (
          <span class="muted small">the end of the log, as the report kept it</span>
        )}
        <label>
          <input type="checkbox" checked={wrap} onChange={(e) => setWrap((e.target as HTMLInputElement).checked)} /> wrap lines
        </label>
        {size !== null ? <span class="muted small">{formatBytes(size)}</span> : null}
        {running && logBus ? <span class="muted small">live</span> : null}
        {logPath && logBus ? (
          <a class="small" href={api.downloadUrl(wfId, logPath)} download>
            download
          </a>
        ) : null}
      </div>
      {dropped > 0 ? <div class="muted small">[… the first {formatBytes(dropped)} are not shown{logPath && logBus ? "; download the whole log" : ""} …]</div> : null}
      {error ? <div class="muted small">{error}</div> : null}
      <pre ref={pre} class={`log-text ${wrap ? "wrap" : ""}`} tabIndex={0} aria-label="log" aria-live={running ? "polite" : "off"} onScroll={onScroll}>
        {text || (loaded ? (reportText === null && !logBus ? "" : "(empty)") : "Loading…")}
      </pre>
    </div>
  );
}
