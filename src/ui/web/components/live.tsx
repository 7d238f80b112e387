// A server-sent event stream as a hook: opened with the component, closed with
// it. `onReconnect` runs on every "hello": the server sends it once its watcher
// misses nothing, so the state the page read before (at load, or before a
// break in the stream) is read again then; changes made meanwhile are not lost.
import { useEffect, useRef, useState } from "preact/hooks";

export type LiveState = "connecting" | "live" | "reconnecting" | "off";

export function useEvents(open: (() => EventSource) | null, handlers: Record<string, (data: unknown) => void>, onReconnect: () => void, deps: unknown[]): LiveState {
  const [state, setState] = useState<LiveState>(open ? "connecting" : "off");
  const h = useRef(handlers);
  h.current = handlers;
  const r = useRef(onReconnect);
  r.current = onReconnect;
  useEffect(() => {
    if (!open) {
      setState("off");
      return;
    }
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let closed = false;
    const connect = () => {
      es = open();
      es.addEventListener("hello", () => {
        setState("live");
        r.current();
      });
      for (const name of Object.keys(h.current)) {
        es.addEventListener(name, (ev) => {
          let data: unknown = null;
          try {
            data = JSON.parse((ev as MessageEvent<string>).data);
          } catch {
            return;
          }
          h.current[name]?.(data);
        });
      }
      es.onerror = () => {
        if (closed) return;
        setState("reconnecting");
        // EventSource retries by itself unless the server refused (401, 404): then it is CLOSED; retry later.
        if (es && es.readyState === EventSource.CLOSED) {
          es.close();
          retry = setTimeout(connect, 3000);
        }
      };
    };
    connect();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      es?.close();
    };
  }, deps);
  return state;
}

export function LiveDot({ state }: { state: LiveState }) {
  if (state === "off") return null;
  const text = state === "live" ? "live" : state === "connecting" ? "connecting…" : "reconnecting…";
  return (
    <span class={`live live-${state}`} role="status" title={state === "live" ? "changes appear as they happen" : "the event stream is down; retrying"}>
      <span class="live-dot" aria-hidden="true" /> {text}
    </span>
  );
}
