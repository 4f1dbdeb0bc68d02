/**
 * Launches Debian's Chromium (`apt-get install chromium`, /usr/bin/chromium) through playwright-core for the
 * browser test and `npm run screenshots`. Nothing is downloaded: playwright-core is a pinned devDependency and the
 * browser comes from the system. The flags keep a headless Chromium off the network (this repository's CI machines
 * have none; without them Chromium keeps trying to reach Google's services).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_INSTALL_HINT =
  "Chromium is needed for the trace UI browser test: install it with " +
  "`sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium` (Debian/Ubuntu; it must be at " +
  `${CHROMIUM_PATH}). .ci/run installs it when it is missing.`;

/** The flags besides `--user-data-dir`, which playwright sets from the fresh profile directory. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/**
 * Launches Chromium with a fresh profile (`--user-data-dir` in a new temporary directory, removed on close) and
 * returns its context and a close() that also deletes the profile. Throws {@link CHROMIUM_INSTALL_HINT} when Chromium is not installed.
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(CHROMIUM_INSTALL_HINT);
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(path.join(tmpdir(), "trace-ui-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1400, height: 900 },
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}
