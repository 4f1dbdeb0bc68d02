/**
 * OpenTelemetry JS 3.x's `@opentelemetry/sdk-trace` reads no environment variable; telemetry/provider.ts reads the
 * standard ones itself. These tests drive createTracerProvider with an explicit env (never process.env) and check
 * what the provider then does with real spans.
 */
import assert from "node:assert/strict";
import { diag, DiagLogLevel, ROOT_CONTEXT, TraceFlags, trace, type Link } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import {
  createTracerProvider,
  DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
  flushWithin,
  resolveSpanLimits,
} from "../../telemetry/provider";

function providerWith(env: NodeJS.ProcessEnv) {
  const memory = new InMemorySpanExporter();
  const provider = createTracerProvider({
    resource: resourceFromAttributes({ "service.name": "provider-test" }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    env,
  });
  return { memory, tracer: provider.getTracer("test") };
}

/** Starts and ends 200 root spans; returns how many were sampled (exported). */
function sampledRoots(env: NodeJS.ProcessEnv): number {
  const { memory, tracer } = providerWith(env);
  for (let i = 0; i < 200; i++) tracer.startSpan(`root ${i}`, {}, ROOT_CONTEXT).end();
  return memory.getFinishedSpans().length;
}

const remoteParent = (sampled: boolean) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });

function captureDiagWarnings(): { warnings: string[]; restore(): void } {
  const warnings: string[] = [];
  const noop = () => undefined;
  diag.setLogger(
    { error: noop, warn: (message: string) => warnings.push(message), info: noop, debug: noop, verbose: noop },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  return { warnings, restore: () => diag.disable() };
}

describe("runtime: tracer provider reads the standard OTEL_* variables itself (SDK 3.x does not)", () => {
  it("sampler: parentbased_always_on by default; OTEL_TRACES_SAMPLER=always_off drops every span", () => {
    assert.equal(sampledRoots({}), 200);
    assert.equal(sampledRoots({ OTEL_TRACES_SAMPLER: "always_off" }), 0);
    assert.equal(sampledRoots({ OTEL_TRACES_SAMPLER: " Always_On " }), 200);
  });

  it("sampler: traceidratio / parentbased_traceidratio take OTEL_TRACES_SAMPLER_ARG", () => {
    assert.equal(sampledRoots({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" }), 0);
    assert.equal(sampledRoots({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1" }), 200);
    const half = sampledRoots({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.5" });
    assert.ok(half > 40 && half < 160, `0.5 sampled ${half} of 200`);
    // A sampled remote parent wins over the ratio with the parent-based variant, not with the plain one.
    for (const [sampler, expected] of [
      ["parentbased_traceidratio", 1],
      ["traceidratio", 0],
    ] as const) {
      const { memory, tracer } = providerWith({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: "0" });
      tracer.startSpan("child", {}, remoteParent(true)).end();
      assert.equal(memory.getFinishedSpans().length, expected, sampler);
    }
  });

  it("sampler: parentbased_always_off drops roots but follows a sampled parent", () => {
    assert.equal(sampledRoots({ OTEL_TRACES_SAMPLER: "parentbased_always_off" }), 0);
    const { memory, tracer } = providerWith({ OTEL_TRACES_SAMPLER: "parentbased_always_off" });
    tracer.startSpan("sampled parent", {}, remoteParent(true)).end();
    tracer.startSpan("unsampled parent", {}, remoteParent(false)).end();
    assert.deepEqual(
      memory.getFinishedSpans().map((s) => s.name),
      ["sampled parent"],
    );
  });

  it("sampler: unknown names and bad ratios fall back (parentbased_always_on, ratio 1) with a diag warning", () => {
    const { warnings, restore } = captureDiagWarnings();
    try {
      assert.equal(sampledRoots({ OTEL_TRACES_SAMPLER: "sometimes" }), 200);
      assert.equal(sampledRoots({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" }), 200);
    } finally {
      restore();
    }
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0]!, /OTEL_TRACES_SAMPLER="sometimes" is not one of .*; using parentbased_always_on/);
    assert.match(warnings[1]!, /OTEL_TRACES_SAMPLER_ARG="2" is not a number in \[0, 1\]; using 1/);
  });

  it("span limits: a string value is cut at 4096 characters unless the environment says otherwise", () => {
    assert.deepEqual(resolveSpanLimits({}), { attributeValueLengthLimit: DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT });
    assert.equal(DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT, 4096);
    const { memory, tracer } = providerWith({});
    const span = tracer.startSpan("big header");
    span.setAttribute("user_agent.original", "x".repeat(15 * 1024));
    span.end();
    assert.equal(String(memory.getFinishedSpans()[0]!.attributes["user_agent.original"]).length, 4096);
  });

  it("span limits: OTEL_SPAN_* win over OTEL_ATTRIBUTE_*; unset or invalid values keep the SDK defaults", () => {
    assert.deepEqual(
      resolveSpanLimits({
        OTEL_ATTRIBUTE_COUNT_LIMIT: "5",
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: "2",
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "4",
        OTEL_SPAN_LINK_COUNT_LIMIT: "1",
        OTEL_SPAN_EVENT_COUNT_LIMIT: "-1",
        OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT: "1.5",
      }),
      { attributeCountLimit: 2, attributeValueLengthLimit: 4, linkCountLimit: 1 },
    );

    const { memory, tracer } = providerWith({
      OTEL_ATTRIBUTE_COUNT_LIMIT: "2",
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "4",
      OTEL_SPAN_LINK_COUNT_LIMIT: "1",
    });
    const link = (spanId: string): Link => ({
      context: { traceId: "0af7651916cd43dd8448eb211c80319c", spanId, traceFlags: TraceFlags.SAMPLED },
    });
    tracer
      .startSpan("limited", {
        attributes: { a: "abcdefgh", b: 1, c: 2 },
        links: [link("b7ad6b7169203331"), link("00f067aa0ba902b7")],
      })
      .end();
    const [span] = memory.getFinishedSpans();
    assert.deepEqual(span!.attributes, { a: "abcd", b: 1 });
    assert.equal(span!.links.length, 1);
    assert.equal(span!.droppedLinksCount, 1);
  });

  it("flushWithin hands its deadline to forceFlush (the SDK's own flush timeout is 30 s otherwise)", async () => {
    const seen: unknown[] = [];
    const outcome = await flushWithin(
      {
        forceFlush: (options?: { timeoutMillis?: number }) => {
          seen.push(options);
          return Promise.resolve();
        },
      },
      250,
    );
    assert.equal(outcome, "flushed");
    assert.deepEqual(seen, [{ timeoutMillis: 250 }]);
  });
});
