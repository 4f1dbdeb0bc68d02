/**
 * The public edge of the API, in-process (createApp behind a real Node http server, an in-memory exporter, a capturing
 * logger): characters SQS refuses, bodies over the limit, clients that abort or break framing, error facts, and the
 * trust given to an incoming `traceparent`. Raw sockets where fetch would hide what goes over the wire.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { InvalidMessageContents, QueueDoesNotExist, type SQSClient } from "@aws-sdk/client-sqs";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { ATTR_CLIENT_ABORTED, createApp, type AppDeps } from "../../app/src/app";
import { MAX_BODY_BYTES, validateOnboardRequest, type OnboardingMessage } from "../../contract/onboarding";
import { PublishError, createSqsClient, createSqsPublisher, type Publisher } from "../../app/src/publisher";
import { createJsonLogger } from "../../telemetry/logger";
import { REGION, TEST_CREDENTIALS, VALID_REQUEST, messageCount, startFauxqs, waitFor, type Fauxqs } from "./helpers";
import { recordingPublisher } from "./fakes";

interface Harness {
  readonly port: number;
  readonly published: OnboardingMessage[];
  readonly logs: Record<string, unknown>[];
  readonly exporter: InMemorySpanExporter;
  /** Server-side sockets, to read how many bytes the server took off the wire. */
  readonly sockets: Socket[];
  close(): Promise<void>;
}

async function startHarness(overrides: Partial<AppDeps> = {}): Promise<Harness> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const { publisher, published } = recordingPublisher();
  const logs: Record<string, unknown>[] = [];
  const app = createApp({
    publisher,
    tracer: provider.getTracer("edge-test"),
    logger: createJsonLogger({ service: "test", write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
    ...overrides,
  });
  const server: Server = createServer(app.callback());
  const sockets: Socket[] = [];
  server.on("connection", (s: Socket) => sockets.push(s));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    published,
    logs,
    exporter,
    sockets,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await provider.shutdown();
    },
  };
}

async function postJson(
  port: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/onboard`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close", ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** A raw HTTP/1.1 client connection: what it received, and when the server closed it. */
interface RawConnection {
  readonly socket: Socket;
  received(): string;
  /** Resolves with the time (Date.now()) the connection closed, whatever closed it. */
  readonly closed: Promise<number>;
}

async function rawConnect(port: number): Promise<RawConnection> {
  const socket = connect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  let data = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (data += chunk));
  socket.on("error", () => undefined); // a reset after the answer is expected
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  return { socket, received: () => data, closed };
}

const statusOf = (raw: string): number | undefined => {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  return match ? Number(match[1]) : undefined;
};

const serverSpans = (exporter: InMemorySpanExporter) =>
  exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);

const errorLogs = (logs: Record<string, unknown>[]) => logs.filter((l) => l.level === "error");

describe("runtime: API edge — text fields and what SQS refuses", function () {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());
  beforeEach(() => {
    h.published.length = 0;
    h.logs.length = 0;
  });

  // Every code point SQS refuses (outside #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF), and what the
  // contract refuses besides: the rest of the C0/C1 controls (TAB/LF/CR included: single-line fields), DEL, line and
  // paragraph separators, bidi embeddings/overrides/isolates.
  const refused: [string, string][] = [
    ["U+FFFE", "Ada\uFFFE"],
    ["U+FFFF", "Ada\uFFFF"],
    ["NUL", "Ada\u0000"],
    ["U+0008", "Ada\u0008"],
    ["U+000B", "Ada\u000BLovelace"],
    ["U+001F", "Ada\u001F"],
    ["TAB", "Ada\tLovelace"],
    ["LF", "Ada\nLovelace"],
    ["CR", "Ada\rLovelace"],
    ["DEL", "Ada\u007F"],
    ["U+0085", "Ada\u0085"],
    ["U+009F", "Ada\u009F"],
    ["U+2028", "Ada\u2028Lovelace"],
    ["U+2029", "Ada\u2029Lovelace"],
    ["U+202A", "\u202AAda"],
    ["U+202E", "\u202Eada.exe"],
    ["U+2066", "\u2066Ada"],
    ["U+2069", "Ada\u2069"],
    ["U+D800", "Ada\uD800"],
    ["U+DFFF", "\uDFFFAda"],
  ];
  for (const field of ["name", "customer_id"] as const) {
    for (const [label, value] of refused) {
      it(`${field} with ${label} → 400 validation_failed naming ${field} and the code point; nothing published`, async () => {
        const res = await postJson(h.port, JSON.stringify({ ...VALID_REQUEST, [field]: value }));
        assert.equal(res.status, 400);
        assert.equal(res.body.error, "validation_failed");
        const fields = res.body.fields as { field: string; message: string }[];
        assert.deepEqual(
          fields.map((f) => f.field),
          [field],
        );
        const codePoint = label.startsWith("U+")
          ? label
          : `U+${value
              .match(/[^\p{L}\p{N}\p{P}\p{S} ]/u)![0]
              .codePointAt(0)!
              .toString(16)
              .toUpperCase()
              .padStart(4, "0")}`;
        assert.match(fields[0].message, new RegExp(`must not contain ${codePoint.replace("+", "\\+")}`));
        assert.equal(h.published.length, 0);
      });
    }
  }

  const VISIBLE = "must contain a visible character (a letter, digit, punctuation or symbol)";
  const invisible: [string, string, string][] = [
    ["whitespace only", " \u00A0\u3000 ", "Too small: expected string to have >=1 characters"], // trimmed to ""
    ["zero-width only", "\u200B\u200C\u200D\u2060", VISIBLE],
    ["BOM and zero-width", "\uFEFF\u200B", VISIBLE],
    ["combining marks only", "\u0301\u0308", VISIBLE],
  ];
  for (const [label, value, message] of invisible) {
    it(`name ${label} → 400 validation_failed naming name: ${message}`, async () => {
      const res = await postJson(h.port, JSON.stringify({ ...VALID_REQUEST, name: value }));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.fields, [{ field: "name", message }]);
      assert.equal(h.published.length, 0);
    });
  }

  const accepted = [
    "👩‍💻 Ada Lovelace",
    "🦄",
    "Zoë O'Brien-Łukasiewicz",
    "李小龍",
    "\u200Fمريم\u200E (Maryam)",
    "Ada\u00A0Lovelace",
    "A\u0301da", // a combining mark after a letter
  ];
  for (const name of accepted) {
    it(`name ${JSON.stringify(name)} passes validation → 202, published unchanged`, async () => {
      assert.equal(validateOnboardRequest({ ...VALID_REQUEST, name }).ok, true);
      const res = await postJson(h.port, JSON.stringify({ ...VALID_REQUEST, name }));
      assert.equal(res.status, 202);
      assert.equal(h.published[0].name, name);
    });
  }
});

describe("runtime: API edge — SQS refusing a message is the request's fault (400), not the queue's (503)", function () {
  this.timeout(30_000);
  let sqs: Fauxqs;
  let client: SQSClient;
  before(async () => {
    sqs = await startFauxqs();
    client = createSqsClient({ region: REGION, credentials: TEST_CREDENTIALS, endpoint: sqs.address });
  });
  after(async () => {
    client.destroy();
    await sqs.stop();
  });

  it("POST with U+FFFF in name against a real SQS server → 400 naming name (was a 503 after SQS refused it)", async () => {
    const queue = sqs.createQueue("edge-fffe");
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const h = await startHarness({
      publisher: createSqsPublisher({ queueUrl: queue.queueUrl, tracer: provider.getTracer("p"), client }),
    });
    try {
      for (const name of ["Ada\uFFFF", "Ada\uFFFE"]) {
        const res = await postJson(h.port, JSON.stringify({ ...VALID_REQUEST, name }));
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error, "validation_failed");
        assert.deepEqual(
          (res.body.fields as { field: string }[]).map((f) => f.field),
          ["name"],
        );
      }
      assert.equal(messageCount(sqs, "edge-fffe"), 0);
      assert.deepEqual(errorLogs(h.logs), []);
      assert.ok(serverSpans(h.exporter).every((s) => s.status.code === SpanStatusCode.UNSET));
    } finally {
      await h.close();
      await provider.shutdown();
    }
  });

  it("the publisher marks SQS's InvalidMessageContents (real server) as refused content", async () => {
    const queue = sqs.createQueue("edge-publisher");
    const provider = new TracerProvider();
    const publisher = createSqsPublisher({ queueUrl: queue.queueUrl, tracer: provider.getTracer("p"), client });
    const message = {
      customer_id: "c",
      email: "a@example.com",
      company_size: "small" as const,
      name: "Ada\uFFFF",
      request_id: "r-1",
      accepted_at: new Date().toISOString(),
    };
    const error = await publisher.publish(message, ROOT_CONTEXT).then(
      () => assert.fail("SQS accepted U+FFFF"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PublishError);
    assert.match(error.errorType, /InvalidMessageContents$/);
    assert.equal(error.rejectedContent, true);
  });

  /** A publisher over a client whose SendMessage fails with `error`. */
  function failingPublisher(error: Error): Publisher {
    const stub = { send: async () => Promise.reject(error), destroy: () => undefined } as unknown as SQSClient;
    return createSqsPublisher({
      queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/onboarding",
      tracer: new TracerProvider().getTracer("p"),
      client: stub,
    });
  }

  const contentErrors: [string, () => Error][] = [
    ["InvalidMessageContents (JSON protocol)", () => new InvalidMessageContents({ message: "bad", $metadata: {} })],
    [
      "AWS.SimpleQueueService.InvalidMessageContents (query-compatible)",
      () => Object.assign(new Error("bad"), { name: "AWS.SimpleQueueService.InvalidMessageContents" }),
    ],
  ];
  for (const [label, make] of contentErrors) {
    it(`SQS answering ${label} → 400 validation_failed naming body, one warn line, no error log`, async () => {
      const h = await startHarness({ publisher: failingPublisher(make()) });
      try {
        // An emoji passes validation; here the queue refuses it anyway.
        const res = await postJson(h.port, JSON.stringify({ ...VALID_REQUEST, name: "👩‍💻 Ada" }));
        assert.equal(res.status, 400);
        assert.equal(res.body.error, "validation_failed");
        assert.deepEqual(
          (res.body.fields as { field: string }[]).map((f) => f.field),
          ["body"],
        );
        assert.match(String(res.body.request_id), /^[0-9a-f-]{36}$/);
        assert.deepEqual(errorLogs(h.logs), []);
        assert.equal(h.logs.filter((l) => l.event === "onboard.message_refused" && l.level === "warn").length, 1);
        const [span] = serverSpans(h.exporter);
        assert.equal(span.attributes["http.response.status_code"], 400);
        assert.equal(span.status.code, SpanStatusCode.UNSET);
      } finally {
        await h.close();
      }
    });
  }

  it("any other SendMessage failure (e.g. QueueDoesNotExist) stays a 503 queue_unavailable", async () => {
    const h = await startHarness({
      publisher: failingPublisher(new QueueDoesNotExist({ message: "gone", $metadata: {} })),
    });
    try {
      const res = await postJson(h.port, JSON.stringify(VALID_REQUEST));
      assert.equal(res.status, 503);
      assert.equal(res.body.error, "queue_unavailable");
    } finally {
      await h.close();
    }
  });
});

describe("runtime: API edge — bodies that never end, clients that leave", function () {
  this.timeout(20_000);
  let h: Harness;
  beforeEach(async () => (h = await startHarness()));
  afterEach(async () => h.close());

  /** Writes `chunk` as fast as the socket takes it until the connection closes. */
  function floodChunks(socket: Socket, chunk: Buffer): void {
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
    const pump = (): void => {
      while (!socket.destroyed && socket.writable) {
        if (!socket.write(frame)) {
          socket.once("drain", pump);
          return;
        }
      }
    };
    pump();
  }

  const flooded: [string, string, number, string][] = [
    ["POST /onboard, endless chunked JSON body", "/onboard", 413, "body_too_large"],
    ["POST /nope (404 before reading), endless chunked body", "/nope", 404, "not_found"],
  ];
  for (const [label, path, status, error] of flooded) {
    it(`${label} → ${status} ${error} with Connection: close, socket closed promptly, server read ≈ the limit`, async () => {
      const conn = await rawConnect(h.port);
      conn.socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      floodChunks(conn.socket, Buffer.alloc(64 * 1024, "x"));
      const answered = await waitFor(() => conn.received().includes("\r\n\r\n") && Date.now(), 5000, "the answer");
      assert.equal(statusOf(conn.received()), status);
      assert.match(conn.received(), /\r\nconnection: close\r\n/i);
      const closedAt = await Promise.race([conn.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
      assert.notEqual(closedAt, -1, "the server kept the connection open and kept reading");
      assert.ok(closedAt - answered < 2000, `closed ${closedAt - answered} ms after the answer`);
      conn.socket.destroy();
      const bytesRead = h.sockets.reduce((sum, s) => sum + s.bytesRead, 0);
      assert.ok(bytesRead < MAX_BODY_BYTES + 1024 * 1024, `the server read ${bytesRead} bytes`);
      assert.deepEqual(errorLogs(h.logs), []);
    });
  }

  it("a declared Content-Length over the limit, body still streaming → 413, socket closed, body not read", async () => {
    const conn = await rawConnect(h.port);
    conn.socket.write(
      "POST /onboard HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
    );
    const chunk = Buffer.alloc(64 * 1024, "x");
    const pump = (): void => {
      while (conn.socket.writable && conn.socket.write(chunk));
      if (conn.socket.writable) conn.socket.once("drain", pump);
    };
    pump();
    const closedAt = await Promise.race([conn.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
    assert.notEqual(closedAt, -1, "the server kept the connection open");
    assert.equal(statusOf(conn.received()), 413);
    const bytesRead = h.sockets.reduce((sum, s) => sum + s.bytesRead, 0);
    assert.ok(bytesRead < MAX_BODY_BYTES + 1024 * 1024, `the server read ${bytesRead} bytes`);
  });

  for (const how of ["end", "destroy"] as const) {
    it(`a client that sends half a body and closes (${how}) → no 5xx, no error span status, no error log, at most one info line`, async () => {
      const conn = await rawConnect(h.port);
      conn.socket.write(
        'POST /onboard HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"customer_id":',
      );
      await waitFor(() => h.sockets.some((s) => s.bytesRead > 0), 2000, "the server to read the head");
      await new Promise((r) => setTimeout(r, 50));
      if (how === "end") conn.socket.end();
      else conn.socket.destroy();
      const [span] = await waitFor(() => serverSpans(h.exporter).length > 0 && serverSpans(h.exporter), 2000, "span");
      await new Promise((r) => setTimeout(r, 200)); // let any late error report arrive
      assert.equal(span.status.code, SpanStatusCode.UNSET);
      assert.equal(span.attributes[ATTR_CLIENT_ABORTED], true);
      assert.equal(span.attributes["http.response.status_code"], undefined);
      assert.equal(span.attributes["error.type"], undefined);
      assert.deepEqual(span.events, []);
      assert.deepEqual(errorLogs(h.logs), []);
      const lines = h.logs.filter((l) => l.level !== "debug");
      assert.ok(lines.length <= 1, JSON.stringify(lines));
      assert.ok(lines.every((l) => l.level === "info" || l.level === "warn"));
      assert.equal(h.published.length, 0);
    });
  }

  it("broken chunked framing → Node's 400, span 400 with status unset, no error log", async () => {
    const conn = await rawConnect(h.port);
    conn.socket.write(
      'POST /onboard HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"cus\r\nZZZ\r\n',
    );
    await conn.closed;
    assert.equal(statusOf(conn.received()), 400);
    const [span] = await waitFor(() => serverSpans(h.exporter).length > 0 && serverSpans(h.exporter), 2000, "span");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes["http.response.status_code"], 400);
    assert.deepEqual(errorLogs(h.logs), []);
    assert.ok(h.logs.length <= 1, JSON.stringify(h.logs));
  });
});

describe("runtime: API edge — errors name what is wrong", function () {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());

  for (const [label, head] of [
    ["no Content-Length or Transfer-Encoding", ""],
    ["Content-Length: 0", "Content-Length: 0\r\n"],
  ]) {
    it(`POST application/json with no body (${label}) → 400 empty_body naming body`, async () => {
      const conn = await rawConnect(h.port);
      conn.socket.write(
        `POST /onboard HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n${head}\r\n`,
      );
      await conn.closed;
      assert.equal(statusOf(conn.received()), 400);
      const body = JSON.parse(conn.received().slice(conn.received().indexOf("\r\n\r\n") + 4)) as Record<
        string,
        unknown
      >;
      assert.equal(body.error, "empty_body");
      assert.deepEqual(body.fields, [{ field: "body", message: "required" }]);
      assert.match(String(body.trace_id), /^[0-9a-f]{32}$/);
    });
  }

  for (const charset of ["latin1", "ISO-8859-1", "windows-1252", "utf-16"]) {
    it(`charset=${charset} → 415 unsupported_charset naming content-type and the charset; nothing decoded`, async () => {
      const body = Buffer.from(JSON.stringify({ ...VALID_REQUEST, name: "Zoë" }), "latin1");
      const res = await postJson(h.port, body, { "content-type": `application/json; charset=${charset}` });
      assert.equal(res.status, 415);
      assert.equal(res.body.error, "unsupported_charset");
      const [field] = res.body.fields as { field: string; message: string }[];
      assert.equal(field.field, "content-type");
      assert.ok(field.message.includes(charset.toLowerCase()), field.message);
      assert.equal(h.published.length, 0);
    });
  }

  for (const charset of ["utf-8", "UTF-8", '"utf-8"', "utf8"]) {
    it(`charset=${charset} → 202`, async () => {
      const res = await postJson(h.port, JSON.stringify(VALID_REQUEST), {
        "content-type": `application/json; charset=${charset}`,
      });
      assert.equal(res.status, 202);
    });
  }

  for (const encoding of ["gzip", "deflate", "br"]) {
    it(`Content-Encoding: ${encoding} → 415 unsupported_content_encoding naming content-encoding`, async () => {
      const res = await postJson(h.port, JSON.stringify(VALID_REQUEST), { "content-encoding": encoding });
      assert.equal(res.status, 415);
      assert.equal(res.body.error, "unsupported_content_encoding");
      const [field] = res.body.fields as { field: string; message: string }[];
      assert.equal(field.field, "content-encoding");
      assert.ok(field.message.startsWith(encoding), field.message);
      assert.match(String(res.body.trace_id), /^[0-9a-f]{32}$/);
    });
  }

  it("Content-Encoding: identity → 202", async () => {
    const res = await postJson(h.port, JSON.stringify(VALID_REQUEST), { "content-encoding": "identity" });
    assert.equal(res.status, 202);
  });

  it("404 and 405 bodies carry request_id (= x-request-id) and the SERVER span's trace_id", async () => {
    for (const [method, path, status] of [
      ["GET", "/onboard", 405],
      ["GET", "/nope", 404],
    ] as const) {
      h.exporter.reset();
      const res = await fetch(`http://127.0.0.1:${h.port}${path}`, { method });
      assert.equal(res.status, status);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.request_id, res.headers.get("x-request-id"));
      assert.equal(body.trace_id, serverSpans(h.exporter)[0].spanContext().traceId);
    }
  });
});

describe("runtime: API edge — trust in an incoming trace context (INCOMING_TRACE_CONTEXT)", function () {
  const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  const CALLER_SPAN = "00f067aa0ba902b7";
  const traceparent = (flags: string) => `00-${CALLER_TRACE}-${CALLER_SPAN}-${flags}`;

  async function onboardWith(overrides: Partial<AppDeps>, flags: string) {
    const h = await startHarness(overrides);
    try {
      const res = await postJson(h.port, JSON.stringify(VALID_REQUEST), { traceparent: traceparent(flags) });
      assert.equal(res.status, 202);
      return { res, spans: serverSpans(h.exporter) };
    } finally {
      await h.close();
    }
  }

  for (const flags of ["00", "01"]) {
    it(`default (new-trace-with-link), caller flags ${flags}: a new sampled trace that links the caller's context`, async () => {
      const { res, spans } = await onboardWith({}, flags);
      assert.equal(spans.length, 1, "the request is traced whatever the caller's flags");
      const [span] = spans;
      assert.notEqual(span.spanContext().traceId, CALLER_TRACE);
      assert.equal(span.parentSpanContext, undefined);
      assert.equal(res.body.trace_id, span.spanContext().traceId);
      assert.deepEqual(
        span.links.map((l) => [l.context.traceId, l.context.spanId, l.context.traceFlags]),
        [[CALLER_TRACE, CALLER_SPAN, Number(flags)]],
      );
    });
  }

  it("honour, caller flags 00: the caller disables the trace (not recorded), trace_id is the caller's", async () => {
    const { res, spans } = await onboardWith({ incomingTraceContext: "honour" }, "00");
    assert.equal(spans.length, 0);
    assert.equal(res.body.trace_id, CALLER_TRACE);
  });

  it("honour, caller flags 01: the SERVER span is the caller's child", async () => {
    const { spans } = await onboardWith({ incomingTraceContext: "honour" }, "01");
    assert.equal(spans[0].spanContext().traceId, CALLER_TRACE);
    assert.equal(spans[0].parentSpanContext?.spanId, CALLER_SPAN);
    assert.deepEqual(spans[0].links, []);
  });

  it("honour-always-sample, caller flags 00: the caller's trace, recorded anyway", async () => {
    const { res, spans } = await onboardWith({ incomingTraceContext: "honour-always-sample" }, "00");
    assert.equal(spans.length, 1);
    assert.equal(spans[0].spanContext().traceId, CALLER_TRACE);
    assert.equal(spans[0].parentSpanContext?.spanId, CALLER_SPAN);
    assert.equal(res.body.trace_id, CALLER_TRACE);
  });
});
