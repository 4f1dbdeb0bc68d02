/**
 * `npm run screenshots` — regenerates the trace UI screenshots in docs/images/ (used by README.md): starts the local
 * stack on ephemeral ports, sends a few requests (one rejected with 400), opens the UI in Debian's Chromium
 * (local/trace-ui/browser.ts) and saves:
 * - docs/images/trace-search.png — the search page with the trace list (an error among them);
 * - docs/images/trace-waterfall.png — one request's waterfall (API → queue wait → Lambda) with the span detail panel.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchChromium } from "../local/trace-ui/browser";
import { REPO_ROOT, startLocalStack } from "../local/stack";

export const SCREENSHOTS = {
  search: "docs/images/trace-search.png",
  waterfall: "docs/images/trace-waterfall.png",
} as const;

export async function takeScreenshots(outDir = REPO_ROOT): Promise<string[]> {
  const stack = await startLocalStack({ build: "if-missing", traceViewPort: 0 });
  const browser = await launchChromium().catch(async (error: unknown) => {
    await stack.stop();
    throw error;
  });
  try {
    const customers = ["Ada Lovelace", "Grace Hopper", "Alan Turing"].map((name, i) => ({
      customer_id: `TEST-00${i + 1}`,
      email: `${name.split(" ")[0]!.toLowerCase()}@example.com`,
      company_size: ["small", "enterprise", "medium"][i],
      name,
    }));
    const ids: string[] = [];
    for (const customer of customers) {
      const response = await stack.onboard(customer);
      ids.push(String(response.body.trace_id));
      await stack.traces.waitFor(ids.at(-1)!, 20_000);
    }
    const rejected = await stack.onboard({ ...customers[0], email: "not-an-email" });
    await stack.traces.waitFor(String(rejected.body.trace_id), 20_000);

    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 560 });
    await page.goto(`${stack.traceView!.url}/`);
    await page.locator("tr.trace-row").nth(3).waitFor();
    const files = [path.join(outDir, SCREENSHOTS.search), path.join(outDir, SCREENSHOTS.waterfall)];
    mkdirSync(path.dirname(files[0]!), { recursive: true });
    await page.screenshot({ path: files[0]! });

    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${stack.traceView!.url}/trace/${ids[0]}`);
    const process = page.locator(".span-row", { has: page.locator(".name", { hasText: "process onboarding" }) });
    await process.click();
    await page.locator("#detail").waitFor();
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: files[1]!, fullPage: true });
    return files;
  } finally {
    await browser.close();
    await stack.stop();
  }
}

if (require.main === module) {
  takeScreenshots().then(
    (files) => {
      for (const file of files) console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
