/**
 * Log-bucketed latency histogram: O(1) memory whatever the run length (a 24 h run at 1000 req/s would be 86 M
 * samples), percentiles within ±1 % of the true value. Values are milliseconds.
 */
const MIN_MS = 0.01;
const MAX_MS = 600_000;
const GROWTH = 1.01; // each bucket is 1 % wider than the previous one → ≤ 0.5 % error at the geometric midpoint
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_GROWTH) + 1;

export interface LatencyStats {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = -Infinity;

  get count(): number {
    return this.n;
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const clamped = Math.min(Math.max(ms, MIN_MS), MAX_MS);
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(clamped / MIN_MS) / LOG_GROWTH));
    this.counts[i]++;
    this.n++;
    this.sum += ms;
    if (ms < this.lo) this.lo = ms;
    if (ms > this.hi) this.hi = ms;
  }

  /** Nearest-rank percentile (q in (0, 100]); undefined when empty. */
  percentile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const rank = Math.max(1, Math.ceil((q / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const mid = MIN_MS * Math.pow(GROWTH, i + 0.5);
        return Math.min(Math.max(mid, this.lo), this.hi);
      }
    }
    return this.hi;
  }

  stats(): LatencyStats | undefined {
    if (this.n === 0) return undefined;
    return {
      count: this.n,
      min: this.lo,
      max: this.hi,
      mean: this.sum / this.n,
      p50: this.percentile(50)!,
      p90: this.percentile(90)!,
      p99: this.percentile(99)!,
    };
  }
}
