/**
 * Rate-limited diagnostics for the exporter: the first occurrence is logged at once, later ones at most once per
 * interval with the number left unlogged in between — a dead collector or a backend rejecting spans must not write
 * a log line per export (each line is CloudWatch cost, and a flood hides the first, useful one).
 */
import { diag } from "@opentelemetry/api";

export type LogLevel = "warn" | "error" | "info";

export class ThrottledLog {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(
    private readonly level: LogLevel,
    private readonly intervalMillis: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(intervalMillis >= 0)) throw new Error(`ThrottledLog interval must be ≥ 0 ms, got ${intervalMillis}`);
  }

  /** Logs `message` (suffixed with the count of occurrences not logged since the last line) or counts it. */
  log(message: string): void {
    const now = this.now();
    if (now - this.lastLoggedAt < this.intervalMillis) {
      this.unlogged++;
      return;
    }
    const suffix = this.unlogged > 0 ? ` (${this.unlogged} more since the last report)` : "";
    this.lastLoggedAt = now;
    this.unlogged = 0;
    diag[this.level](message + suffix);
  }

  /** Starts a new streak: the next occurrence is logged at once. */
  reset(): void {
    this.lastLoggedAt = Number.NEGATIVE_INFINITY;
    this.unlogged = 0;
  }
}
