import { parseArgs } from "node:util";

/** Everything `runTraffic` needs; every field is bounded so a run always ends. */
export interface TrafficOptions {
  /** Base URL of the API (`/onboard` is appended unless the path already ends with it). */
  readonly url: string;
  /** Average requests per second. */
  readonly rate: number;
  /** Stop sending after this long (ms). */
  readonly durationMs: number;
  /** Send requests in bursts of this many at once, keeping the average `rate`; undefined = evenly spaced. */
  readonly burst?: number;
  /** Stop after sending this many requests. */
  readonly maxRequests?: number;
  /** Per-request timeout (ms). */
  readonly timeoutMs: number;
  /** Never more than this many requests in flight; requests due beyond it are skipped and counted. */
  readonly maxInFlight: number;
  /** Print the summary as JSON on stdout instead of text. */
  readonly json?: boolean;
}

export const LIMITS = {
  rate: { min: 0.1, max: 1000 },
  durationMs: { min: 100, max: 24 * 3_600_000 },
  burst: { min: 1, max: 1000 },
  maxRequests: { min: 1, max: 10_000_000 },
  timeoutMs: { min: 100, max: 120_000 },
  maxInFlight: { min: 1, max: 2000 },
} as const;

export const DEFAULTS = {
  rate: 5,
  durationMs: 60_000,
  timeoutMs: 10_000,
  maxInFlight: 256,
} as const;

export const USAGE = `usage: npm run traffic -- --url <api base url> [--rate 5] [--duration 60s] [--burst N] [--max-requests N]
                           [--timeout 10s] [--max-in-flight 256] [--json]

  --url            API base URL, e.g. the stack output apiUrl or http://127.0.0.1:8000 (required)
  --rate           average requests per second, ${LIMITS.rate.min}–${LIMITS.rate.max} (default ${DEFAULTS.rate})
  --duration       how long to send: 500ms, 30s, 10m, 1h (a bare number is seconds; max 24h; default 60s)
  --burst          send N requests at once every N/rate seconds instead of evenly spaced (1–${LIMITS.burst.max})
  --max-requests   stop after sending N requests (whichever of duration/max-requests comes first)
  --timeout        per-request timeout (default 10s, max 120s)
  --max-in-flight  cap on concurrent requests; requests due beyond it are skipped and counted (default ${DEFAULTS.maxInFlight})
  --json           print the final summary as JSON on stdout`;

/** A bad command line: the message is one line and names the flag. */
export class TrafficArgError extends Error {
  override readonly name = "TrafficArgError";
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "60m" → 3 600 000; "1.5s" → 1500; "30" → 30 000 (seconds). */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new TrafficArgError(`${flag} must be a duration like 500ms, 30s, 10m or 1h (got "${text}")`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? "s"]);
}

function bounded(flag: string, value: number, limits: { min: number; max: number }, show = (n: number) => `${n}`) {
  if (!Number.isFinite(value) || value < limits.min || value > limits.max) {
    throw new TrafficArgError(
      `${flag} must be between ${show(limits.min)} and ${show(limits.max)} (got ${show(value)})`,
    );
  }
  return value;
}

function number(flag: string, text: string, integer: boolean): number {
  const ok = integer ? /^\d+$/.test(text.trim()) : /^\d+(\.\d+)?$/.test(text.trim());
  if (!ok) throw new TrafficArgError(`${flag} must be ${integer ? "a whole number" : "a number"} (got "${text}")`);
  return Number(text);
}

const fmtDuration = (ms: number) =>
  ms > 0 && ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;

/** Validate options built in code (tests, bench) with the same rules as the command line. */
export function validateOptions(o: TrafficOptions): TrafficOptions {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new TrafficArgError(`--url must be an absolute http(s) URL like http://127.0.0.1:8000 (got "${o.url}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TrafficArgError(`--url must use http or https (got "${url.protocol}")`);
  }
  bounded("--rate", o.rate, LIMITS.rate);
  bounded("--duration", o.durationMs, LIMITS.durationMs, fmtDuration);
  if (o.burst !== undefined) bounded("--burst", o.burst, LIMITS.burst);
  if (o.maxRequests !== undefined) bounded("--max-requests", o.maxRequests, LIMITS.maxRequests);
  bounded("--timeout", o.timeoutMs, LIMITS.timeoutMs, fmtDuration);
  bounded("--max-in-flight", o.maxInFlight, LIMITS.maxInFlight);
  if (o.burst !== undefined && o.burst > o.maxInFlight) {
    throw new TrafficArgError(`--burst (${o.burst}) must not exceed --max-in-flight (${o.maxInFlight})`);
  }
  return o;
}

/** Parse `process.argv.slice(2)`; throws TrafficArgError (one line, names the flag) on anything invalid. */
export function parseTrafficArgs(argv: readonly string[]): TrafficOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: "string" },
        rate: { type: "string" },
        duration: { type: "string" },
        burst: { type: "string" },
        "max-requests": { type: "string" },
        timeout: { type: "string" },
        "max-in-flight": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    // node:util messages span lines ("… To specify a positional argument …"); keep the first sentence.
    const msg = (err as Error).message.split("\n")[0].replace(/\. To specify.*$/, "");
    const flag = /^Option '(--[\w-]+)/.exec(msg)?.[1];
    if (flag && /argument is ambiguous/.test(msg)) {
      throw new TrafficArgError(`${flag} got a value starting with "-"; write ${flag}=<value> if you mean it`);
    }
    if (flag && /argument missing/.test(msg)) throw new TrafficArgError(`${flag} needs a value`);
    throw new TrafficArgError(msg);
  }
  if (values.help) return "help";
  const str = (k: string) => values[k] as string | undefined;
  if (str("url") === undefined) throw new TrafficArgError("--url is required, e.g. --url http://127.0.0.1:8000");
  return validateOptions({
    url: str("url")!,
    rate: str("rate") === undefined ? DEFAULTS.rate : number("--rate", str("rate")!, false),
    durationMs: str("duration") === undefined ? DEFAULTS.durationMs : parseDuration("--duration", str("duration")!),
    burst: str("burst") === undefined ? undefined : number("--burst", str("burst")!, true),
    maxRequests: str("max-requests") === undefined ? undefined : number("--max-requests", str("max-requests")!, true),
    timeoutMs: str("timeout") === undefined ? DEFAULTS.timeoutMs : parseDuration("--timeout", str("timeout")!),
    maxInFlight:
      str("max-in-flight") === undefined
        ? DEFAULTS.maxInFlight
        : number("--max-in-flight", str("max-in-flight")!, true),
    json: values.json === true,
  });
}
