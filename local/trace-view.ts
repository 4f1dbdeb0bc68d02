/**
 * A tiny trace viewer on loopback (default port 16686, Jaeger's UI port):
 * - `GET /api/traces?limit=N` — recent traces, newest first (summaries);
 * - `GET /api/traces/<traceId>` — the trace's spans as JSON (service, name, kind, ids, parent, links, attributes,
 *   status, start/end);
 * - `GET /` — a self-contained HTML page drawing each trace as a waterfall.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { durationMs, summarize, type TraceStore } from "./trace-store";

export interface TraceView {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

export interface TraceViewOptions {
  readonly store: TraceStore;
  /** 0 = ephemeral. @default 16686 */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
}

export function traceToJson(store: TraceStore, traceId: string) {
  const trace = store.get(traceId);
  if (!trace) return undefined;
  return {
    ...summarize(trace),
    spans: trace.spans.map((span) => ({
      service: span.serviceName,
      name: span.name,
      kind: span.kind,
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId ?? null,
      links: span.links,
      attributes: span.attributes,
      resource: span.resource,
      status: span.status,
      startTimeUnixNano: span.startTimeUnixNano,
      endTimeUnixNano: span.endTimeUnixNano,
      startTime: new Date(Number(BigInt(span.startTimeUnixNano) / 1_000_000n)).toISOString(),
      durationMs: durationMs(span),
    })),
  };
}

export async function startTraceView(options: TraceViewOptions): Promise<TraceView> {
  const host = options.host ?? "127.0.0.1";
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
      res.end(JSON.stringify(body, null, 2));
    };
    if (req.method !== "GET") return json(405, { error: "only GET is supported" });
    if (url.pathname === "/api/traces") {
      const limit = Math.min(Math.max(Number(url.searchParams.get("limit") ?? 100) || 100, 1), 2000);
      return json(200, { traces: options.store.list(limit).map(summarize) });
    }
    const match = /^\/api\/traces\/([0-9a-fA-F]{32})$/.exec(url.pathname);
    if (match) {
      const body = traceToJson(options.store, match[1]!);
      return body ? json(200, body) : json(404, { error: `trace ${match[1]} not found` });
    }
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(PAGE);
    }
    return json(404, { error: `no route for ${url.pathname}` });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 16686, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>traced-onboarding — local traces</title>
<style>
 body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
 h1{font-size:18px} .trace{border:1px solid #ddd;border-radius:6px;margin:12px 0;padding:8px}
 .head{cursor:pointer;font-weight:600} .meta{color:#666;font-weight:400}
 .row{display:grid;grid-template-columns:360px 1fr;align-items:center;gap:8px;margin:2px 0}
 .label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-family:ui-monospace,monospace;font-size:12px}
 .lane{position:relative;height:14px;background:#f5f5f5}
 .bar{position:absolute;height:14px;border-radius:2px;min-width:2px}
 .SERVER{background:#4e79a7}.PRODUCER{background:#f28e2b}.CONSUMER{background:#59a14f}.CLIENT{background:#b07aa1}.INTERNAL{background:#9c9c9c}
 .ERROR{outline:2px solid #e15759} .attrs{color:#666;font-size:11px;margin-left:368px;font-family:ui-monospace,monospace}
 .complete{color:#2a7}.partial{color:#c80}.open,.batch{color:#888}
</style></head><body>
<h1>Local traces <span class="meta">(newest first; refreshes every 3 s; JSON at <a href="/api/traces">/api/traces</a>)</span></h1>
<div id="traces"></div>
<script>
const open = new Set();
async function load() {
  const { traces } = await (await fetch('/api/traces?limit=50')).json();
  const root = document.getElementById('traces');
  const details = await Promise.all(traces.filter(t => open.has(t.traceId) || traces.indexOf(t) < 10)
    .map(t => fetch('/api/traces/' + t.traceId).then(r => r.json())));
  const byId = new Map(details.map(d => [d.traceId, d]));
  root.innerHTML = '';
  for (const t of traces) {
    const box = document.createElement('div'); box.className = 'trace';
    const head = document.createElement('div'); head.className = 'head';
    head.innerHTML = esc(t.rootService + ' · ' + t.rootName) + ' <span class="meta">' + t.traceId + ' · ' + t.spanCount +
      ' spans · ' + t.durationMs.toFixed(1) + ' ms · ' + t.startTime + '</span> <span class="' + t.state + '">' + t.state +
      (t.errorCount ? ' · ' + t.errorCount + ' error(s)' : '') + '</span>';
    head.onclick = () => { open.has(t.traceId) ? open.delete(t.traceId) : open.add(t.traceId); load(); };
    box.appendChild(head);
    const d = byId.get(t.traceId);
    if (d) box.appendChild(waterfall(d));
    root.appendChild(box);
  }
}
function waterfall(d) {
  const wrap = document.createElement('div');
  const spans = d.spans.map(s => ({ ...s, start: BigInt(s.startTimeUnixNano), end: BigInt(s.endTimeUnixNano) }));
  const t0 = spans.reduce((m, s) => s.start < m ? s.start : m, spans[0].start);
  const t1 = spans.reduce((m, s) => s.end > m ? s.end : m, spans[0].end);
  const total = Number(t1 - t0) || 1;
  const ids = new Set(spans.map(s => s.spanId));
  const kids = new Map(); const roots = [];
  spans.sort((a, b) => a.start < b.start ? -1 : 1);
  for (const s of spans) { if (s.parentSpanId && ids.has(s.parentSpanId)) { (kids.get(s.parentSpanId) || kids.set(s.parentSpanId, []).get(s.parentSpanId)).push(s); } else roots.push(s); }
  const visit = (s, depth) => {
    const row = document.createElement('div'); row.className = 'row';
    const left = Number(s.start - t0) / total * 100, width = Number(s.end - s.start) / total * 100;
    row.innerHTML = '<div class="label" title="' + esc(s.name) + '">' + '&nbsp;'.repeat(depth * 3) + esc(s.service + '  ' + s.name) +
      ' <b>' + s.kind + '</b> ' + s.durationMs.toFixed(1) + ' ms</div><div class="lane"><div class="bar ' + s.kind + ' ' + s.status.code +
      '" style="left:' + left + '%;width:' + width + '%"></div></div>';
    wrap.appendChild(row);
    const a = document.createElement('div'); a.className = 'attrs';
    const attrs = Object.entries(s.attributes).map(([k, v]) => k + '=' + JSON.stringify(v)).join('  ');
    a.textContent = (s.status.code === 'ERROR' ? 'ERROR ' + (s.status.message || '') + '  ' : '') + attrs +
      s.links.map(l => '  ↔ link ' + l.traceId + '/' + l.spanId).join('');
    wrap.appendChild(a);
    for (const k of kids.get(s.spanId) || []) visit(k, depth + 1);
  };
  roots.forEach(r => visit(r, 0));
  return wrap;
}
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]); }
load(); setInterval(load, 3000);
</script></body></html>`;
