import { freePorts } from "../../local/ports";
import { PORT_VARIABLES } from "../../local/stack";

/** Polls `condition` every 25 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const EMPTY = { ready: 0, inflight: 0, delayed: 0 } as const;

/**
 * Every port variable `npm start` reads (local/stack.ts PORT_VARIABLES), each set to a free port: a test that runs
 * `npm start` never takes a default port a developer's own `npm start` may hold, and a new port variable is covered
 * without touching the tests.
 */
export async function freePortEnv(): Promise<Record<string, string>> {
  const variables = Object.values(PORT_VARIABLES);
  const ports = await freePorts(variables.length);
  return Object.fromEntries(variables.map((variable, i) => [variable, String(ports[i])]));
}
