/** Stopping the child processes the local stack starts (the API, the Lambda host). */
import type { ChildProcess } from "node:child_process";

/**
 * `signal` (SIGTERM), then SIGKILL if the child has not exited within `graceMs`; resolves once it has exited
 * (`exited` is the promise of its exit). A child that has already exited is left alone.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<unknown>,
  graceMs: number,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
