/**
 * The API's routing contract in-process (createApp with a fake publisher and an in-memory exporter): which method and
 * path get which status, `Allow` header and JSON body, and which SERVER span (name, `http.route`) each one produces.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createApp } from "../../app/src/app";
import type { Publisher } from "../../app/src/publisher";
import { createJsonLogger } from "../../telemetry/logger";
import { VALID_REQUEST } from "./helpers";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

describe("runtime: API routes (in-process, fake publisher)", function () {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  let ready = true;
  let published = 0;
  const publisher: Publisher = {
    publish: async () => ({ messageId: `m-${++published}` }),
    ready: async () => ready,
    close: () => undefined,
  };
  let server: Server;
  let port: number;

  before(async () => {
    const app = createApp({
      publisher,
      tracer: provider.getTracer("routes-test"),
      logger: createJsonLogger({ service: "test", write: () => undefined }),
    });
    server = createServer(app.callback());
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await provider.shutdown();
  });

  beforeEach(() => {
    exporter.reset();
    ready = true;
    published = 0;
  });

  /** node:http rather than fetch: fetch refuses TRACE and would hide what goes over the wire. */
  function send(
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      // An explicit length: Node sends GET/DELETE/OPTIONS bodies without one, which the server cannot frame.
      const length = body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) };
      const req = request({
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: { connection: "close", ...length, ...headers },
      });
      req.on("error", reject);
      req.on("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.end(body);
    });
  }

  const postJson = (body: string) => send("POST", "/onboard", body, { "content-type": "application/json" });

  function serverSpans() {
    return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
  }

  it("POST /onboard → 202, SERVER span `POST /onboard` with http.route /onboard", async () => {
    const res = await postJson(JSON.stringify(VALID_REQUEST));
    assert.equal(res.status, 202);
    assert.deepEqual(Object.keys(JSON.parse(res.text)).sort(), ["customer_id", "request_id", "trace_id"]);
    assert.equal(published, 1);
    const [span] = serverSpans();
    assert.equal(span.name, "POST /onboard");
    assert.equal(span.attributes["http.route"], "/onboard");
    assert.equal(span.attributes["http.response.status_code"], 202);
  });

  for (const method of ["GET", "PUT", "PATCH", "DELETE", "TRACE"]) {
    it(`${method} /onboard → 405 method_not_allowed, Allow: POST; span \`${method} /onboard\`; nothing published`, async () => {
      const res = await send(method, "/onboard");
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, "POST");
      const spans = serverSpans();
      assert.deepEqual(JSON.parse(res.text), {
        error: "method_not_allowed",
        message: "Use POST",
        request_id: res.headers["x-request-id"],
        trace_id: spans[0].spanContext().traceId,
      });
      assert.match(String(res.headers["x-request-id"]), UUID);
      assert.equal(published, 0);
      assert.equal(spans.length, 1);
      assert.equal(spans[0].name, `${method} /onboard`);
      assert.equal(spans[0].attributes["http.route"], "/onboard");
      assert.equal(spans[0].attributes["http.response.status_code"], 405);
    });
  }

  it("HEAD /onboard → 405, Allow: POST, no body", async () => {
    const res = await send("HEAD", "/onboard");
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, "POST");
    assert.equal(res.text, "");
  });

  for (const path of ["/healthz", "/readyz"]) {
    for (const method of ["POST", "PUT", "DELETE"]) {
      it(`${method} ${path} → 405 method_not_allowed with a request_id (no trace_id), Allow: HEAD, GET; not traced`, async () => {
        const res = await send(method, path, "{}", { "content-type": "application/json" });
        assert.equal(res.status, 405);
        assert.equal(res.headers.allow, "HEAD, GET");
        const body = JSON.parse(res.text) as Record<string, unknown>;
        assert.match(String(body.request_id), UUID);
        assert.deepEqual(body, { error: "method_not_allowed", message: "Use HEAD, GET", request_id: body.request_id });
        assert.equal(exporter.getFinishedSpans().length, 0);
      });
    }

    it(`GET and HEAD ${path} → 200; not traced`, async () => {
      const get = await send("GET", path);
      assert.equal(get.status, 200);
      const head = await send("HEAD", path);
      assert.equal(head.status, 200);
      assert.equal(head.text, "");
      assert.equal(exporter.getFinishedSpans().length, 0);
    });
  }

  it("GET /healthz → {status: ok}; GET /readyz → ready / 503 not_ready", async () => {
    assert.deepEqual(JSON.parse((await send("GET", "/healthz")).text), { status: "ok" });
    assert.deepEqual(JSON.parse((await send("GET", "/readyz")).text), { status: "ready", checks: { sqs: "ok" } });
    ready = false;
    const notReady = await send("GET", "/readyz");
    assert.equal(notReady.status, 503);
    assert.deepEqual(JSON.parse(notReady.text), { status: "not_ready", checks: { sqs: "unavailable" } });
  });

  it("OPTIONS on a known path → 200 with Allow and an empty body (the router's answer)", async () => {
    const onboard = await send("OPTIONS", "/onboard");
    assert.equal(onboard.status, 200);
    assert.equal(onboard.headers.allow, "POST");
    assert.equal(onboard.text, "");
    const [span] = serverSpans();
    assert.equal(span.name, "OPTIONS /onboard");
    assert.equal(span.attributes["http.route"], "/onboard");
    const health = await send("OPTIONS", "/healthz");
    assert.equal(health.status, 200);
    assert.equal(health.headers.allow, "HEAD, GET");
  });

  for (const [method, path] of [
    ["GET", "/nope"],
    ["POST", "/nope"],
    ["OPTIONS", "/nope"],
    ["POST", "/onboard/"],
    ["POST", "/ONBOARD"],
    ["GET", "/healthz/"],
    ["GET", "/"],
  ]) {
    it(`${method} ${path} → 404 not_found with request_id and trace_id, no Allow; span named \`${method}\` without http.route`, async () => {
      const res = await send(method, path, "{}", { "content-type": "application/json" });
      assert.equal(res.status, 404);
      assert.equal(res.headers.allow, undefined);
      const spans = serverSpans();
      assert.deepEqual(JSON.parse(res.text), {
        error: "not_found",
        message: `No route for ${method} ${path}`,
        request_id: res.headers["x-request-id"],
        trace_id: spans[0].spanContext().traceId,
      });
      assert.equal(published, 0);
      assert.equal(spans.length, 1);
      assert.equal(spans[0].name, method);
      assert.equal(spans[0].attributes["http.route"], undefined);
      assert.equal(spans[0].attributes["url.path"], path);
      assert.equal(spans[0].attributes["http.response.status_code"], 404);
    });
  }

  it("POST /onboard with `application/json; charset=utf-8` → 202", async () => {
    const res = await send("POST", "/onboard", JSON.stringify(VALID_REQUEST), {
      "content-type": "application/json; charset=utf-8",
    });
    assert.equal(res.status, 202);
  });

  // The body reader's answers that @koa/bodyparser (co-body) would change (see readBody in app/src/app.ts).
  const bodyCases: {
    name: string;
    body: string | Buffer;
    headers?: Record<string, string>;
    status?: number;
    error: string;
    field: string;
  }[] = [
    { name: "empty body", body: "", error: "empty_body", field: "body" },
    { name: "whitespace body", body: " \n", error: "invalid_json", field: "body" },
    { name: "JSON string", body: '"ada"', error: "validation_failed", field: "body" },
    { name: "JSON null", body: "null", error: "validation_failed", field: "body" },
    {
      name: "__proto__ key",
      body: JSON.stringify(VALID_REQUEST).replace("{", '{"__proto__":{"x":1},'),
      error: "validation_failed",
      field: "__proto__",
    },
    {
      name: "gzip Content-Encoding (not inflated)",
      body: gzipSync(JSON.stringify(VALID_REQUEST)),
      headers: { "content-encoding": "gzip" },
      status: 415,
      error: "unsupported_content_encoding",
      field: "content-encoding",
    },
  ];
  for (const c of bodyCases) {
    it(`POST /onboard ${c.name} → ${c.status ?? 400} ${c.error} naming ${c.field}`, async () => {
      const res = await send("POST", "/onboard", c.body, { "content-type": "application/json", ...c.headers });
      assert.equal(res.status, c.status ?? 400);
      const body = JSON.parse(res.text) as { error: string; fields: { field: string }[]; trace_id: string };
      assert.equal(body.error, c.error);
      assert.deepEqual(
        body.fields.map((f) => f.field),
        [c.field],
      );
      assert.match(body.trace_id, /^[0-9a-f]{32}$/);
      assert.equal(published, 0);
    });
  }
});
