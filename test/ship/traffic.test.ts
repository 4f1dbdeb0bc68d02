// The traffic generator against a real HTTP server on loopback that answers like the onboarding API
// (202 + request_id/customer_id/trace_id, 400 naming the field, 503 when SQS is down). Nothing is mocked: real
// sockets, real fetch, real timeouts, and the CLI as a real child process for arguments and Ctrl-C.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseDuration, parseTrafficArgs, TrafficArgError, type TrafficOptions } from "../../scripts/traffic/args";
import { randomCustomer } from "../../scripts/traffic/customer";
import { validateOnboardRequest } from "../../contract/onboarding";
import { LatencyHistogram } from "../../scripts/traffic/histogram";
import { formatSummary, onboardEndpoint, runTraffic } from "../../scripts/traffic/run";

const ROOT = path.resolve(__dirname, "../..");

interface FakeApi {
  url: string;
  bodies: Record<string, unknown>[];
  /** Decide the status for the n-th request (0-based); default 202. */
  behaviour: (n: number) => 202 | 400 | 503 | "hang" | "reset";
  delayMs: number;
  close(): Promise<void>;
}

const SIZES = new Set(["small", "medium", "large", "enterprise"]);

async function startFakeApi(): Promise<FakeApi> {
  const api: FakeApi = {
    url: "",
    bodies: [],
    behaviour: () => 202,
    delayMs: 0,
    close: async () => {},
  };
  let n = 0;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST" || req.url !== "/onboard") return json(res, 404, { error: "not found" });
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const i = n++;
      const body = JSON.parse(raw) as Record<string, unknown>;
      api.bodies.push(body);
      const mode = api.behaviour(i);
      if (mode === "hang") return; // never answers: the client's timeout must end it
      if (mode === "reset") return req.socket.destroy();
      setTimeout(() => {
        // Validate like the real API: a generator that sends invalid customers would show up as 400s here.
        const valid =
          req.headers["content-type"] === "application/json" &&
          typeof body.customer_id === "string" &&
          typeof body.email === "string" &&
          /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(body.email) &&
          typeof body.name === "string" &&
          SIZES.has(body.company_size as string) &&
          Object.keys(body).length === 4;
        if (!valid || mode === 400) return json(res, 400, { error: "invalid request", fields: ["email"] });
        if (mode === 503) return json(res, 503, { error: "queue unavailable" });
        json(res, 202, {
          request_id: randomUUID(),
          customer_id: body.customer_id,
          trace_id: randomBytes(16).toString("hex"),
        });
      }, api.delayMs);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return api;
}

const base = (url: string, extra: Partial<TrafficOptions> = {}): TrafficOptions => ({
  url,
  rate: 50,
  durationMs: 1000,
  timeoutMs: 2000,
  maxInFlight: 64,
  ...extra,
});

class Capture {
  text = "";
  constructor(
    readonly isTTY: boolean,
    readonly columns = 120,
  ) {}
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe("traffic generator", function () {
  this.timeout(30_000);
  let api: FakeApi;
  beforeEach(async () => {
    api = await startFakeApi();
  });
  afterEach(async () => {
    await api.close();
  });

  it("sends valid random customers at the requested rate, for the requested duration", async () => {
    const s = await runTraffic(base(api.url, { rate: 40, durationMs: 1500 }));
    assert.equal(s.stoppedBy, "duration");
    // 40/s for 1.5 s = 60 ticks, the first at t=0 and the last before 1.5 s.
    assert.ok(s.sent >= 54 && s.sent <= 60, `sent ${s.sent}`);
    assert.equal(s.accepted, s.sent, JSON.stringify(s));
    assert.equal(s.rejected + s.failed + s.cancelled + s.skipped, 0);
    assert.equal(api.bodies.length, s.sent);
    assert.equal(new Set(api.bodies.map((b) => b.customer_id)).size, s.sent, "customer ids are unique");
    assert.ok(s.elapsedMs >= 1400 && s.elapsedMs < 3000, `elapsed ${s.elapsedMs}`);
    assert.ok(Math.abs(s.achievedRate - 40) < 4, `achieved ${s.achievedRate}`);
  });

  it("reports latency percentiles from real responses", async () => {
    api.delayMs = 50;
    const s = await runTraffic(base(api.url, { rate: 20, durationMs: 1000 }));
    const lat = s.latencyMs!;
    assert.equal(lat.count, s.sent);
    assert.ok(lat.p50 >= 50 && lat.p50 < 500, `p50 ${lat.p50}`);
    assert.ok(lat.min <= lat.p50 && lat.p50 <= lat.p90 && lat.p90 <= lat.p99 && lat.p99 <= lat.max);
  });

  it("keeps a sample of trace_ids returned by the API", async () => {
    const s = await runTraffic(base(api.url, { rate: 50, durationMs: 600 }), { traceSampleSize: 5 });
    assert.equal(s.traceIds.length, 5);
    for (const id of s.traceIds) assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(new Set(s.traceIds).size, 5);
  });

  it("counts accepted, rejected and failed (5xx, reset, timeout) separately", async () => {
    const plan = ["202", "400", "503", "reset", "hang", "202"] as const;
    api.behaviour = (n) => {
      const p = plan[n % plan.length];
      return p === "202" ? 202 : p === "400" ? 400 : p === "503" ? 503 : p;
    };
    const s = await runTraffic(base(api.url, { rate: 30, maxRequests: 12, durationMs: 5000, timeoutMs: 300 }));
    assert.equal(s.stoppedBy, "max-requests");
    assert.equal(s.sent, 12);
    assert.equal(s.accepted, 4);
    assert.equal(s.rejected, 2);
    assert.equal(s.failed, 6); // 2 × 503, 2 × reset, 2 × timeout
    assert.deepEqual(s.statuses, { "202": 4, "400": 2, "503": 2 });
    assert.equal(s.errors.timeout, 2);
    assert.equal(
      Object.values(s.errors).reduce((a, b) => a + b, 0),
      4,
    );
    const text = formatSummary(s);
    assert.match(text, /accepted \(2xx\) 4\n/);
    assert.match(text, /rejected \(4xx\) 2 {2}\(400×2\)/);
    assert.match(text, /failed {9}6 {2}\(503×2 .*timeout×2/);
  });

  it("counts a refused connection as failed, not as an exception", async () => {
    const url = api.url;
    await api.close();
    const s = await runTraffic(base(url, { rate: 20, durationMs: 300 }));
    assert.equal(s.accepted, 0);
    assert.equal(s.failed, s.sent);
    assert.ok(s.errors.ECONNREFUSED > 0, JSON.stringify(s.errors));
    api = await startFakeApi(); // for afterEach
  });

  it("sends bursts of N at once while keeping the average rate", async () => {
    const arrivals: number[] = [];
    const inner = api.behaviour;
    api.behaviour = (n) => {
      arrivals.push(performance.now());
      return inner(n);
    };
    const s = await runTraffic(base(api.url, { rate: 20, burst: 10, durationMs: 1000 }));
    assert.equal(s.mode, "burst");
    assert.equal(s.sent, 20); // bursts at t=0 and t=0.5 s
    assert.equal(s.accepted, 20);
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]);
    const bigGaps = gaps.filter((g) => g > 300);
    assert.equal(bigGaps.length, 1, `one pause between the two bursts: ${gaps.map(Math.round)}`);
  });

  it("never exceeds --max-in-flight; requests due beyond it are skipped and counted", async () => {
    api.behaviour = () => "hang";
    const s = await runTraffic(base(api.url, { rate: 100, durationMs: 500, maxInFlight: 5, timeoutMs: 800 }));
    assert.equal(s.sent, 5);
    // 50 ticks are due in 500 ms; a tick that a busy event loop delays past the end is not sent late.
    assert.ok(s.skipped >= 40 && s.skipped <= 45, `skipped ${s.skipped}`);
    assert.equal(s.failed, 5);
    assert.equal(s.errors.timeout, 5);
  });

  it("stops on abort (Ctrl-C) with a summary; unanswered requests are cancelled after the drain time", async () => {
    api.behaviour = (n) => (n < 5 ? 202 : "hang");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const started = performance.now();
    const s = await runTraffic(base(api.url, { rate: 20, durationMs: 60_000, timeoutMs: 10_000 }), {
      signal: controller.signal,
      drainMs: 200,
    });
    const took = performance.now() - started;
    assert.equal(s.stoppedBy, "signal");
    assert.ok(took < 1500, `took ${took} ms after a 400 ms abort`);
    assert.equal(s.accepted, 5);
    assert.equal(s.cancelled, s.sent - 5);
    assert.equal(s.failed, 0);
    assert.match(formatSummary(s), /interrupted/);
  });

  it("draws a progress bar on a TTY and plain lines otherwise", async () => {
    const tty = new Capture(true, 200);
    await runTraffic(base(api.url, { rate: 20, durationMs: 700 }), { output: tty });
    assert.match(tty.text, /\r\x1b\[2K\[#*-*\] +\d+% 00:00\/00:00 sent \d+ ok \d+ 4xx 0 fail 0 in-flight \d+ p50/);
    assert.ok(tty.text.endsWith("\r\x1b[2K"), "the bar is cleared before the summary");

    // A terminal without a size (script(1), some CI runners) says 0 columns: the bar must still show.
    const sizeless = new Capture(true, 0);
    await runTraffic(base(api.url, { rate: 20, durationMs: 500 }), { output: sizeless });
    assert.match(sizeless.text, /\r\x1b\[2K\[#*-*\] +\d+% 00:00\/00:00 sent \d+ ok/);

    const plain = new Capture(false);
    await runTraffic(base(api.url, { rate: 20, durationMs: 700 }), { output: plain, plainIntervalMs: 200 });
    const lines = plain.text.trim().split("\n");
    assert.ok(lines.length >= 2, plain.text);
    for (const line of lines) assert.match(line, /^\[traffic \d+%\] 00:00\/00:00 sent \d+ ok \d+ 4xx 0 fail 0/);
    assert.doesNotMatch(plain.text, /\x1b|\r/);
  });

  it("refuses invalid options built in code, naming the flag", async () => {
    await assert.rejects(runTraffic(base(api.url, { rate: 0 })), /^TrafficArgError: --rate must be between/);
    await assert.rejects(runTraffic(base("ftp://x", {})), /--url must use http or https/);
    assert.equal(api.bodies.length, 0);
  });
});

describe("traffic arguments", () => {
  const err = (argv: string[]) => {
    try {
      parseTrafficArgs(argv);
    } catch (e) {
      assert.ok(e instanceof TrafficArgError, String(e));
      assert.doesNotMatch(e.message, /\n/, "one line");
      return e.message;
    }
    assert.fail(`accepted ${argv.join(" ")}`);
  };

  it("parses the documented command line", () => {
    assert.deepEqual(
      parseTrafficArgs(["--url", "https://api.example.com", "--rate", "5", "--duration", "60m", "--burst", "5"]),
      {
        url: "https://api.example.com",
        rate: 5,
        durationMs: 3_600_000,
        burst: 5,
        maxRequests: undefined,
        timeoutMs: 10_000,
        maxInFlight: 256,
        json: false,
      },
    );
  });

  it("defaults to a finite duration and a modest rate", () => {
    const o = parseTrafficArgs(["--url", "http://127.0.0.1:8000"]);
    assert.ok(o !== "help");
    assert.equal(o.durationMs, 60_000);
    assert.equal(o.rate, 5);
  });

  it("parses durations", () => {
    assert.equal(parseDuration("--duration", "500ms"), 500);
    assert.equal(parseDuration("--duration", "1.5s"), 1500);
    assert.equal(parseDuration("--duration", "30"), 30_000);
    assert.equal(parseDuration("--duration", "10m"), 600_000);
    assert.equal(parseDuration("--duration", "2h"), 7_200_000);
  });

  it("refuses absurd or invalid values with one line naming the flag", () => {
    const url = ["--url", "http://127.0.0.1:8000"];
    assert.equal(err([]), "--url is required, e.g. --url http://127.0.0.1:8000");
    assert.match(err(["--url", "not a url"]), /^--url must be an absolute http\(s\) URL/);
    assert.equal(err([...url, "--rate", "5000"]), "--rate must be between 0.1 and 1000 (got 5000)");
    assert.equal(
      err([...url, "--rate", "-1"]),
      '--rate got a value starting with "-"; write --rate=<value> if you mean it',
    );
    assert.equal(err([...url, "--rate=-1"]), '--rate must be a number (got "-1")');
    assert.equal(err([...url, "--rate"]), "--rate needs a value");
    assert.equal(err([...url, "--rate", "fast"]), '--rate must be a number (got "fast")');
    assert.equal(
      err([...url, "--duration", "forever"]),
      '--duration must be a duration like 500ms, 30s, 10m or 1h (got "forever")',
    );
    assert.equal(err([...url, "--duration", "48h"]), "--duration must be between 100ms and 24h (got 48h)");
    assert.equal(err([...url, "--duration", "0"]), "--duration must be between 100ms and 24h (got 0ms)");
    assert.equal(err([...url, "--burst", "2.5"]), '--burst must be a whole number (got "2.5")');
    assert.equal(
      err([...url, "--burst", "300", "--max-in-flight", "100"]),
      "--burst (300) must not exceed --max-in-flight (100)",
    );
    assert.equal(err([...url, "--max-requests", "0"]), "--max-requests must be between 1 and 10000000 (got 0)");
    assert.equal(err([...url, "--timeout", "5m"]), "--timeout must be between 100ms and 120s (got 300s)");
    assert.match(err([...url, "--bogus"]), /^Unknown option '--bogus'/);
    assert.match(err([...url, "extra"]), /positional argument/);
  });

  it("appends /onboard to the base URL once", () => {
    assert.equal(onboardEndpoint("http://h:8000"), "http://h:8000/onboard");
    assert.equal(onboardEndpoint("http://h:8000/"), "http://h:8000/onboard");
    assert.equal(onboardEndpoint("https://h/prod/"), "https://h/prod/onboard");
    assert.equal(onboardEndpoint("https://h/onboard"), "https://h/onboard");
  });
});

describe("traffic customers", () => {
  it("are valid for the real API's request schema (contract/onboarding.ts) and unique", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const c = randomCustomer();
      const result = validateOnboardRequest(c);
      assert.ok(result.ok, `${JSON.stringify(c)}: ${JSON.stringify(!result.ok && result.errors)}`);
      ids.add(c.customer_id);
    }
    assert.equal(ids.size, 2000);
  });
});

describe("latency histogram", () => {
  it("gives percentiles within 1 % of the exact nearest-rank value", () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 0.5 + ((i * 7919) % 10_000) / 10);
    values.forEach((v) => h.record(v));
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [50, 90, 99]) {
      const exact = sorted[Math.ceil((q / 100) * sorted.length) - 1];
      const got = h.percentile(q)!;
      assert.ok(Math.abs(got - exact) / exact < 0.01, `p${q}: ${got} vs ${exact}`);
    }
    assert.equal(h.stats()!.count, 10_000);
    assert.equal(new LatencyHistogram().stats(), undefined);
  });
});

describe("npm run traffic (the CLI as a child process)", function () {
  this.timeout(30_000);
  const cli = (args: string[]) =>
    spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/traffic.ts"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
  const collect = async (child: ReturnType<typeof cli>) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const [code] = (await once(child, "close")) as [number | null];
    return { code, stdout, stderr };
  };

  it("exits 2 with one line naming the flag for a bad argument, without sending anything", async () => {
    const r = await collect(cli(["--url", "http://127.0.0.1:9", "--rate", "1e9"]));
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'traffic: --rate must be a number (got "1e9")\n');
    assert.equal(r.stdout, "");
  });

  it("prints usage with --help", async () => {
    const r = await collect(cli(["--help"]));
    assert.equal(r.code, 0);
    for (const flag of ["--url", "--rate", "--duration", "--burst", "--max-requests", "--timeout", "--max-in-flight"]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });

  it("exits 0 without a stack trace when stdout is closed early (`--help | head -1`)", async () => {
    const child = cli(["--help"]);
    child.stdout!.destroy(); // the reader went away before the usage was written
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const [code] = (await once(child, "close")) as [number | null];
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });

  it("prints a summary and exits 130 on Ctrl-C (SIGINT)", async () => {
    const api = await startFakeApi();
    try {
      const child = cli(["--url", api.url, "--rate", "20", "--duration", "10m"]);
      const result = collect(child);
      await new Promise((r) => setTimeout(r, 2000));
      child.kill("SIGINT");
      const r = await result;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stdout, /^traffic summary: POST http:\/\/127\.0\.0\.1:\d+\/onboard\n {2}stopped {8}interrupted/);
      assert.match(r.stdout, /accepted \(2xx\) [1-9]\d*\n/);
      assert.match(r.stdout, /latency {8}p50 /);
      assert.match(r.stdout, /trace_ids .*\n {4}[0-9a-f]{32}\n/);
      assert.match(r.stderr, /\[traffic \d+%\]|interrupted/); // not a TTY: plain progress lines, no escapes
      assert.doesNotMatch(r.stderr, /\x1b/);
    } finally {
      await api.close();
    }
  });

  it("stops at --max-requests and prints JSON with --json", async () => {
    const api = await startFakeApi();
    try {
      const r = await collect(cli(["--url", api.url, "--rate", "50", "--max-requests", "7", "--json"]));
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { sent: number; accepted: number; stoppedBy: string };
      assert.equal(summary.stoppedBy, "max-requests");
      assert.equal(summary.sent, 7);
      assert.equal(summary.accepted, 7);
      assert.equal(api.bodies.length, 7);
    } finally {
      await api.close();
    }
  });
});
