/** CloudWatch Logs retention: the only values the PutRetentionPolicy API accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Default retention for every log group the components create. */
export const DEFAULT_LOG_RETENTION_DAYS = 30;

/** Returns a problem message when `days` is not an accepted retention, otherwise undefined. */
export function checkLogRetention(field: string, days: number): string | undefined {
  if ((LOG_RETENTION_DAYS as readonly number[]).includes(days)) return undefined;
  return `${field} must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${days}).`;
}
