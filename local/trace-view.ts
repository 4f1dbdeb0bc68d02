/**
 * The trace view on loopback (default port 16686, Jaeger's UI port): a trace UI for debugging plus Jaeger's query
 * API, all from the local trace store.
 *
 * - `GET /`, `/search?…`, `/trace/<traceId>` — the UI (local/trace-ui/): search by trace id, service, operation,
 *   tags, errors only, min/max duration and time range; a waterfall with a time axis, offsets, the queue wait
 *   between `send` and `process`, a span detail panel (attributes, resource, status, events, links) and links to
 *   linked traces both ways.
 * - Jaeger's query API (local/jaeger-api.ts): `/api/services`, `/api/services/<service>/operations`,
 *   `/api/operations`, `/api/traces?…`, `/api/traces/<traceId>` — so Grafana's Jaeger data source or a Jaeger UI
 *   can read the local traces.
 * - The UI's own JSON, which adds what Jaeger's shape has no room for (completeness state, error flags, links into
 *   the trace from other traces): `/api/local/traces?…` (summaries; the Jaeger search parameters plus `errors=1` and
 *   `batch=1`, durations of whole traces), `/api/local/traces/<traceId>`, and
 *   `/api/local/traces/<traceId>/otlp.json` (the trace as an OTLP/JSON export request, to download or replay).
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { listenHttp } from "./http-listen";
import path from "node:path";
import { handleJaegerApi } from "./jaeger-api";
import { toOtlpJson } from "./otlp-json";
import { durationMs, summarize, type TraceStore } from "./trace-store";
import { linksInto, parseTraceQuery, QueryError, searchTraces, spanIsError, summaryRow } from "./trace-query";

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

/** The deep link of one trace in the view. */
export function traceUrl(viewUrl: string, traceId: string): string {
  return `${viewUrl}/trace/${traceId}`;
}

/** The UI's JSON of one trace: summary, spans (with events, error flags and offsets) and links from other traces. */
export function traceToJson(store: TraceStore, traceId: string) {
  const trace = store.get(traceId);
  if (!trace) return undefined;
  const summary = summarize(trace);
  const t0 = trace.spans.reduce(
    (min, s) => (BigInt(s.startTimeUnixNano) < min ? BigInt(s.startTimeUnixNano) : min),
    BigInt(trace.spans[0]!.startTimeUnixNano),
  );
  return {
    ...summary,
    errorSpans: trace.spans.filter(spanIsError).length,
    linkedFrom: linksInto(store, trace.traceId),
    spans: trace.spans.map((span) => ({
      service: span.serviceName,
      name: span.name,
      kind: span.kind,
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId ?? null,
      links: span.links.map((link) => {
        const target = store.get(link.traceId)?.spans.find((s) => s.spanId === link.spanId);
        return { ...link, ...(target ? { service: target.serviceName, name: target.name, kind: target.kind } : {}) };
      }),
      attributes: span.attributes,
      resource: span.resource,
      scope: span.scope ?? null,
      status: span.status,
      error: spanIsError(span),
      events: (span.events ?? []).map((event) => ({
        ...event,
        offsetMs: Number(BigInt(event.timeUnixNano) - t0) / 1e6,
      })),
      startTimeUnixNano: span.startTimeUnixNano,
      endTimeUnixNano: span.endTimeUnixNano,
      startTime: new Date(Number(BigInt(span.startTimeUnixNano) / 1_000_000n)).toISOString(),
      offsetMs: Number(BigInt(span.startTimeUnixNano) - t0) / 1e6,
      durationMs: durationMs(span),
    })),
  };
}

const UI_DIR = path.join(__dirname, "trace-ui");
const ASSETS: Record<string, { file: string; type: string }> = {
  "/ui/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/ui/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

export async function startTraceView(options: TraceViewOptions): Promise<TraceView> {
  const host = options.host ?? "127.0.0.1";
  const { store } = options;
  const page = readFileSync(path.join(UI_DIR, "index.html"), "utf8");
  const assets = new Map(
    Object.entries(ASSETS).map(([route, asset]) => [
      route,
      { body: readFileSync(path.join(UI_DIR, asset.file), "utf8"), type: asset.type },
    ]),
  );
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        ...headers,
      });
      res.end(JSON.stringify(body, null, 2));
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return json(405, { error: "only GET is supported" });
    }
    const pathname = url.pathname;
    if (pathname === "/" || pathname === "/search" || /^\/trace\/[^/]+$/.test(pathname)) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      return res.end(page);
    }
    const asset = assets.get(pathname);
    if (asset) {
      res.writeHead(200, { "content-type": asset.type, "cache-control": "no-store" });
      return res.end(asset.body);
    }
    if (pathname === "/api/local/traces") {
      try {
        const params = url.searchParams;
        const query = {
          ...parseTraceQuery(params),
          durationOf: "trace" as const,
          errorsOnly: params.get("errors") === "1",
          includeBatch: params.get("batch") === "1",
        };
        const rows = searchTraces(store, query).map(summaryRow);
        return json(200, { traces: rows, limit: query.limit, retained: { spans: store.spanCount } });
      } catch (error) {
        if (error instanceof QueryError) return json(400, { error: error.message });
        throw error;
      }
    }
    const local = /^\/api\/local\/traces\/([0-9a-fA-F]{32})(\/otlp\.json)?$/.exec(pathname);
    if (local) {
      const trace = store.get(local[1]!);
      if (!trace) return json(404, { error: "trace not found", traceId: local[1]!.toLowerCase() });
      if (local[2]) {
        return json(200, toOtlpJson(trace.spans), {
          "content-disposition": `attachment; filename="trace-${trace.traceId}.otlp.json"`,
        });
      }
      return json(200, traceToJson(store, trace.traceId));
    }
    const jaeger = handleJaegerApi(store, pathname, url.searchParams);
    if (jaeger) return json(jaeger.status, jaeger.body);
    return json(404, { error: `no route for ${pathname}` });
  });
  const listening = await listenHttp(server, options.port ?? 16686, host);
  return { port: listening.port, url: listening.url, close: listening.close };
}
