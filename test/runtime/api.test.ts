/**
 * The built API bundle (`node --require dist/app/tracing.js dist/app/server.js`) against real parts: fauxqs for
 * SQS and the local gRPC OTLP receiver for spans.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";
import {
  VALID_REQUEST,
  closedPort,
  messageCount,
  startApi,
  startBlackhole,
  startFauxqs,
  waitFor,
  type ApiProcess,
  type Fauxqs,
} from "./helpers";

const QUEUE = "onboarding-api-test";

async function post(baseUrl: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/onboard`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close", ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("runtime: API bundle against fauxqs and a real OTLP receiver", function () {
  this.timeout(30_000);
  let sqs: Fauxqs;
  let receiver: OtlpReceiver;
  let queueUrl: string;
  let api: ApiProcess;

  before(async () => {
    sqs = await startFauxqs();
    queueUrl = sqs.createQueue(QUEUE).queueUrl;
    receiver = await startOtlpReceiver();
    api = await startApi({
      QUEUE_URL: queueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.address,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: "50",
      // As the components set it (packages/traced-components/src/traced-service-args.ts).
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test,cx.application.name=customer-onboarding",
      // The 202 test follows the caller's trace id end to end (the public default would start a new trace).
      INCOMING_TRACE_CONTEXT: "honour",
    });
  });

  after(async () => {
    await api?.stop();
    await receiver?.close();
    await sqs?.stop();
  });

  const cases: {
    name: string;
    body: string;
    headers?: Record<string, string>;
    status?: number;
    error: string;
    fields: string[];
  }[] = [
    { name: "bad JSON", body: "{not json", error: "invalid_json", fields: ["body"] },
    {
      name: "wrong content type",
      body: JSON.stringify(VALID_REQUEST),
      headers: { "content-type": "text/plain" },
      error: "unsupported_content_type",
      fields: ["content-type"],
    },
    {
      name: "missing fields",
      body: JSON.stringify({ customer_id: "c1" }),
      error: "validation_failed",
      fields: ["email", "company_size", "name"],
    },
    {
      name: "extra field",
      body: JSON.stringify({ ...VALID_REQUEST, is_admin: true, plan: "x" }),
      error: "validation_failed",
      fields: ["is_admin", "plan"],
    },
    {
      name: "invalid values",
      body: JSON.stringify({ ...VALID_REQUEST, email: "not-an-email", company_size: "huge", name: "" }),
      error: "validation_failed",
      fields: ["email", "company_size", "name"],
    },
    { name: "not an object", body: "[1,2]", error: "validation_failed", fields: ["body"] },
    {
      name: "body over 16 KiB",
      body: JSON.stringify({ ...VALID_REQUEST, name: "x".repeat(17 * 1024) }),
      status: 413,
      error: "body_too_large",
      fields: ["body"],
    },
  ];

  for (const c of cases) {
    it(`${c.status ?? 400} for ${c.name}, naming ${c.fields.join(", ")}; nothing sent to SQS`, async () => {
      const res = await post(api.baseUrl, c.body, c.headers);
      assert.equal(res.status, c.status ?? 400);
      assert.equal(res.body.error, c.error);
      assert.deepEqual(
        (res.body.fields as { field: string }[]).map((f) => f.field),
        c.fields,
      );
      assert.equal(typeof res.body.request_id, "string");
      assert.match(String(res.body.trace_id), /^[0-9a-f]{32}$/);
      assert.notEqual(res.body.trace_id, "0".repeat(32));
      assert.equal(messageCount(sqs, QUEUE), 0);
    });
  }

  it("202 → exactly one message with W3C context; SERVER/PRODUCER spans reach the receiver in the caller's trace", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const res = await post(api.baseUrl, JSON.stringify(VALID_REQUEST), {
      traceparent: `00-${traceId}-b7ad6b7169203331-01`,
    });
    assert.equal(res.status, 202);
    assert.deepEqual(Object.keys(res.body).sort(), ["customer_id", "request_id", "trace_id"]);
    assert.equal(res.body.trace_id, traceId);
    assert.equal(messageCount(sqs, QUEUE), 1);
    const [message] = sqs.inspectQueue(QUEUE)!.messages.ready as {
      body: string;
      messageAttributes: Record<string, { DataType: string; StringValue?: string }>;
    }[];
    assert.equal(JSON.parse(message.body).request_id, res.body.request_id);
    assert.equal(message.messageAttributes.traceparent.DataType, "String");
    assert.match(message.messageAttributes.traceparent.StringValue!, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const spans = await waitFor(
      () => {
        const mine = receiver.spans.filter((s) => s.traceId === traceId);
        return mine.length >= 2 && mine;
      },
      5000,
      "API spans",
    );
    const server = spans.find((s) => s.kind === "SERVER")!;
    const producer = spans.find((s) => s.kind === "PRODUCER")!;
    assert.equal(server.name, "POST /onboard");
    assert.equal(server.parentSpanId, "b7ad6b7169203331");
    assert.equal(server.attributes["http.response.status_code"], 202);
    assert.equal(producer.name, `send ${QUEUE}`);
    assert.equal(producer.parentSpanId, server.spanId);
    assert.ok(message.messageAttributes.traceparent.StringValue!.includes(producer.spanId));
    assert.equal(producer.serviceName, "onboarding-api");
    assert.equal(producer.resource["cloud.platform"], "aws_ecs");
    assert.equal(producer.resource["deployment.environment.name"], "test");
    assert.equal(producer.resource["cx.application.name"], "customer-onboarding");

    const accepted = api.lines.find((l) => l.event === "onboard.accepted" && l.request_id === res.body.request_id);
    assert.equal(accepted?.trace_id, traceId);
    assert.equal(accepted?.span_id, server.spanId);
  });

  it("health and readiness", async () => {
    const health = await fetch(`${api.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${api.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready", checks: { sqs: "ok" } });
    const wrongMethod = await fetch(`${api.baseUrl}/onboard`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    const healthWrongMethod = await fetch(`${api.baseUrl}/healthz`, { method: "POST" });
    assert.equal(healthWrongMethod.status, 405);
    assert.equal(healthWrongMethod.headers.get("allow"), "HEAD, GET");
    assert.equal((await fetch(`${api.baseUrl}/nope`)).status, 404);
  });
});

describe("runtime: API bundle when SQS is down or hung", function () {
  this.timeout(30_000);
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver?.close();
  });

  for (const mode of ["refused", "hung"] as const) {
    it(`${mode}: 503 JSON within a bounded time, ERROR spans, and the process keeps serving`, async () => {
      const blackhole = mode === "hung" ? await startBlackhole() : undefined;
      const port = blackhole?.port ?? (await closedPort());
      const api = await startApi({
        QUEUE_URL: "http://127.0.0.1/000000000000/onboarding",
        AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: "50",
      });
      try {
        const started = Date.now();
        const res = await post(api.baseUrl, JSON.stringify(VALID_REQUEST));
        const elapsed = Date.now() - started;
        assert.equal(res.status, 503);
        assert.equal(res.body.error, "queue_unavailable");
        assert.equal(typeof res.body.request_id, "string");
        assert.match(String(res.body.trace_id), /^[0-9a-f]{32}$/);
        // Publish is capped at 2.5 s (timeouts + retries + AbortSignal); allow scheduling slack.
        assert.ok(elapsed < 4000, `503 took ${elapsed} ms`);
        const ready = await fetch(`${api.baseUrl}/readyz`);
        assert.equal(ready.status, 503);
        assert.equal((await fetch(`${api.baseUrl}/healthz`)).status, 200);
        // This request's spans only: the receiver is shared, and the probes above (or a previous API's last flush) can
        // land first.
        const spans = await waitFor(
          () => {
            const s = receiver.spans.filter(
              (x) => x.traceId === res.body.trace_id && (x.kind === "SERVER" || x.kind === "PRODUCER"),
            );
            return s.length >= 2 && s;
          },
          5000,
          "error spans",
        );
        const server = spans.find((s) => s.kind === "SERVER")!;
        const producer = spans.find((s) => s.kind === "PRODUCER")!;
        assert.equal(server.status.code, "ERROR");
        assert.equal(server.attributes["http.response.status_code"], 503);
        assert.equal(producer.status.code, "ERROR");
        assert.equal(typeof producer.attributes["error.type"], "string");
        assert.ok(api.lines.some((l) => l.event === "onboard.queue_unavailable" && l.trace_id === server.traceId));
      } finally {
        receiver.spans.length = 0;
        assert.equal(await api.stop(), 0);
        await blackhole?.close();
      }
    });
  }
});

describe("runtime: API bundle HTTP timeouts (HTTP_*_TIMEOUT_MS)", function () {
  this.timeout(30_000);

  /** Sends the head at once, then the declared 50-byte body one byte a second; resolves when the server closes. */
  async function slowBody(baseUrl: string, head: (host: string) => string) {
    const { hostname, port } = new URL(baseUrl);
    const socket = connect({ host: hostname, port: Number(port) });
    await once(socket, "connect");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => undefined);
    const started = Date.now();
    socket.write(head(hostname));
    const drip = setInterval(() => socket.writable && socket.write("x"), 1000);
    const closedAfter = await Promise.race([
      once(socket, "close").then(() => Date.now() - started),
      new Promise<number>((r) => setTimeout(() => r(-1), 6000)),
    ]);
    clearInterval(drip);
    socket.destroy();
    return { closedAfter, received };
  }

  it("a body arriving a byte a second is cut off at HTTP_REQUEST_TIMEOUT_MS (408, connection closed), no error log", async () => {
    const api = await startApi({
      QUEUE_URL: "http://127.0.0.1/000000000000/onboarding",
      AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${await closedPort()}`,
      OTEL_SDK_DISABLED: "true",
      HTTP_REQUEST_TIMEOUT_MS: "1000",
    });
    try {
      const { closedAfter, received } = await slowBody(
        api.baseUrl,
        (host) =>
          `POST /onboard HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{`,
      );
      assert.notEqual(closedAfter, -1, "the slow body was still being read after 6 s");
      // requestTimeout 1 s, checked every 250 ms (a quarter of the shortest timeout): allow scheduling slack.
      assert.ok(closedAfter >= 900 && closedAfter < 2500, `closed after ${closedAfter} ms`);
      assert.match(received, /^HTTP\/1\.1 408 /);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        api.lines.filter((l) => l.level === "error"),
        [],
      );
    } finally {
      assert.equal(await api.stop(), 0);
    }
  });

  it("headers arriving slowly are cut off at HTTP_HEADERS_TIMEOUT_MS, before the request timeout", async () => {
    const api = await startApi({
      QUEUE_URL: "http://127.0.0.1/000000000000/onboarding",
      AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${await closedPort()}`,
      OTEL_SDK_DISABLED: "true",
      HTTP_REQUEST_TIMEOUT_MS: "5000",
      HTTP_HEADERS_TIMEOUT_MS: "1000",
    });
    try {
      const { closedAfter, received } = await slowBody(
        api.baseUrl,
        (host) => `POST /onboard HTTP/1.1\r\nHost: ${host}\r\nX-`,
      );
      assert.ok(closedAfter >= 900 && closedAfter < 2500, `closed after ${closedAfter} ms`);
      assert.match(received, /^HTTP\/1\.1 408 /);
    } finally {
      assert.equal(await api.stop(), 0);
    }
  });
});

type Probe = { outcome: "answered"; status: number } | { outcome: "refused" | "no response"; detail: string };

/**
 * Opens a NEW TCP connection to the server and sends `GET /healthz`: "answered" with the status when an HTTP
 * response comes back, "refused" when the connection is refused, "no response" when the connection closes, errors
 * or stays silent for 1 s without a response.
 */
function probeNewConnection(baseUrl: string): Promise<Probe> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise<Probe>((resolve) => {
    let data = "";
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (probe: Probe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    const timer = setTimeout(() => done({ outcome: "no response", detail: "silent for 1 s" }), 1000);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`));
    socket.on("data", (chunk: string) => {
      data += chunk;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      if (status) done({ outcome: "answered", status: Number(status[1]) });
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      done({ outcome: error.code === "ECONNREFUSED" ? "refused" : "no response", detail: String(error.code) }),
    );
    socket.on("close", () => done({ outcome: "no response", detail: `closed after ${JSON.stringify(data)}` }));
  });
}

describe("runtime: API bundle shutdown and OTEL_SDK_DISABLED", function () {
  this.timeout(30_000);
  let sqs: Fauxqs;
  let receiver: OtlpReceiver;
  before(async () => {
    sqs = await startFauxqs();
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver?.close();
    await sqs?.stop();
  });

  it("SIGTERM: spans still batched are flushed, exit code 0", async () => {
    const queue = sqs.createQueue("onboarding-shutdown");
    const api = await startApi({
      QUEUE_URL: queue.queueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.address,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // Nothing is exported on schedule: only the shutdown flush can deliver the spans.
      OTEL_BSP_SCHEDULE_DELAY: "600000",
    });
    const res = await post(api.baseUrl, JSON.stringify(VALID_REQUEST));
    assert.equal(res.status, 202);
    assert.equal(receiver.spans.length, 0);
    const code = await api.stop("SIGTERM");
    assert.equal(code, 0);
    const traceId = res.body.trace_id as string;
    assert.deepEqual(
      receiver.spans
        .filter((s) => s.traceId === traceId)
        .map((s) => s.kind)
        .sort(),
      ["PRODUCER", "SERVER"],
    );
    assert.ok(api.lines.some((l) => l.event === "server.stopped" && l.span_flush === "flushed"));
  });

  it("SIGTERM with a request in flight: stops accepting new connections, the in-flight response is still delivered, then exit code 0", async () => {
    const blackhole = await startBlackhole();
    const api = await startApi({
      QUEUE_URL: "http://127.0.0.1/000000000000/onboarding",
      AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${blackhole.port}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    });
    try {
      let inFlightSettled = false;
      const pending = post(api.baseUrl, JSON.stringify(VALID_REQUEST)).finally(() => (inFlightSettled = true));
      await waitFor(() => blackhole.connections() > 0, 5000, "the publish to reach SQS");
      // Before SIGTERM a new connection is served.
      assert.deepEqual(await probeNewConnection(api.baseUrl), { outcome: "answered", status: 200 });
      const exited = api.stop("SIGTERM");
      await waitFor(() => api.lines.some((l) => l.event === "server.shutdown_started"), 5000, "SIGTERM handled");
      // After SIGTERM, while the request is still in flight (its publish hangs until the 2.5 s cap), a new connection
      // is refused or gets no response.
      const probe = await probeNewConnection(api.baseUrl);
      assert.equal(inFlightSettled, false, "the probe ran while the request was still in flight");
      assert.notEqual(probe.outcome, "answered", `a new connection was served after SIGTERM: ${JSON.stringify(probe)}`);
      const res = await pending;
      assert.equal(res.status, 503); // the hung SQS call ends at its deadline and the answer goes out
      assert.equal(await exited, 0);
      const stopping = api.lines.findIndex((l) => l.event === "server.shutdown_started");
      const answered = api.lines.findIndex((l) => l.event === "onboard.queue_unavailable");
      assert.ok(stopping >= 0 && answered > stopping, "SIGTERM arrived while the request was in flight");
    } finally {
      await blackhole.close();
    }
  });

  it("OTEL_SDK_DISABLED=true: requests work, nothing is exported", async () => {
    const queue = sqs.createQueue("onboarding-disabled");
    receiver.spans.length = 0;
    const api = await startApi({
      QUEUE_URL: queue.queueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.address,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SDK_DISABLED: "true",
    });
    const res = await post(api.baseUrl, JSON.stringify(VALID_REQUEST));
    assert.equal(res.status, 202);
    assert.equal(messageCount(sqs, "onboarding-disabled"), 1);
    assert.equal(await api.stop(), 0);
    assert.equal(receiver.spans.length, 0);
  });

  it("missing QUEUE_URL: exits non-zero with a message naming the variable", async () => {
    await assert.rejects(
      startApi({ QUEUE_URL: "" }),
      /API exited with code 1 during startup:[^]*QUEUE_URL is required/,
    );
  });
});
