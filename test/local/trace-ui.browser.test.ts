/**
 * The trace UI in a real browser: Debian's Chromium driven by playwright-core against the local stack. Fails (never
 * skips) when Chromium is missing, with the command that installs it; .ci/run installs it before `npm test`.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { BrowserContext, Page } from "playwright-core";
import { CHROMIUM_INSTALL_HINT, CHROMIUM_PATH, launchChromium } from "../../local/trace-ui/browser";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { ensureBundles } from "../runtime/helpers";

const EVENT_TRACE = "e".repeat(32);

describe("trace UI in Chromium (playwright-core)", function () {
  this.timeout(90_000);
  // dist/ is built once per test run, by whichever worker asks first; the local stack and npm start then run it.
  before(() => ensureBundles());
  let stack: LocalStack;
  let browser: { context: BrowserContext; close(): Promise<void> } | undefined;
  let page: Page;
  let traceId: string;
  let rejectedTraceId: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM_PATH), CHROMIUM_INSTALL_HINT);
    stack = await startLocalStack({ build: "if-missing", traceViewPort: 0 });
    browser = await launchChromium();
    page = await browser.context.newPage();
    const accepted = await stack.onboard({
      customer_id: "UI-001",
      email: "ui@example.com",
      company_size: "small",
      name: "Browser Test",
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    traceId = String(accepted.body.trace_id);
    const rejected = await stack.onboard({ customer_id: "UI-002", email: "nope", company_size: "small", name: "X" });
    assert.equal(rejected.status, 400);
    rejectedTraceId = String(rejected.body.trace_id);
    await Promise.all([stack.traces.waitFor(traceId, 20_000), stack.traces.waitFor(rejectedTraceId, 20_000)]);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const rowOf = (name: string) => page.locator(".span-row", { has: page.locator(".name", { hasText: name }) });
  /**
   * Waits until the view the URL names is on screen: navigation is client-side (pushState, then a fetch), so the URL
   * changes before the view does, and the previous view is still readable meanwhile.
   */
  const rendered = () => page.locator('#main[aria-busy="false"]').waitFor();

  it("finds the trace_id an API response returned and shows every hop on a time axis", async () => {
    await page.goto(`${stack.traceView!.url}/`);
    await page.fill("#find-id", traceId);
    await page.click("#find button");
    await page.waitForURL(`**/trace/${traceId}`);
    await page.locator(".span-row").nth(3).waitFor();

    const rows = await page.locator(".span-row").evaluateAll((elements) =>
      elements.map((row) => ({
        service: row.querySelector(".service")!.textContent,
        name: row.querySelector(".name")!.textContent,
        kind: row.querySelector(".kind")!.textContent,
        duration: row.querySelector(".dur")!.textContent,
        labelClipped: row.querySelector(".label")!.scrollWidth > row.querySelector(".label")!.clientWidth + 1,
      })),
    );
    assert.deepEqual(
      rows.map((r) => [r.service, r.kind, r.name]),
      [
        ["onboarding-api", "SERVER", "POST /onboard"],
        ["onboarding-api", "PRODUCER", "send onboarding"],
        ["onboarding-lambda", "CONSUMER", "process onboarding"],
        ["onboarding-lambda", "CLIENT", "UpdateItem onboarding"],
      ],
    );
    for (const row of rows) {
      assert.match(row.duration!, /^\d+(\.\d+)? (ms|s)$/);
      assert.equal(row.labelClipped, false, `${row.name}: the label is not cut off`);
    }
    const ticks = await page.locator(".axis .tick").allTextContents();
    assert.ok(ticks.length >= 3, `time axis ticks: ${ticks.join(", ")}`);
    assert.equal(ticks[0], "0.00 ms");
    const wait = await page.locator(".row.wait .label").textContent();
    assert.match(wait!, /queue wait \d+(\.\d+)? (ms|s) \(send onboarding → process onboarding\)/);
    assert.match((await page.locator("#trace-head").textContent())!, /complete/);
  });

  it("opens the span detail panel and follows the batch link both ways", async () => {
    await rowOf("process onboarding").click();
    const detail = page.locator("#detail");
    await detail.waitFor();
    const text = (await detail.textContent())!;
    assert.match(text, /onboarding-lambda · process onboarding/);
    assert.match(text, /messaging\.message\.id/);
    assert.match(text, /Resource.*service\.name.*onboarding-lambda/s);
    assert.match(text, /Status\s*UNSET/);
    assert.match(page.url(), /#span-[0-9a-f]{16}$/);

    const link = detail.locator("a", { hasText: /process onboarding/ }).first();
    const batchTraceId = /\/trace\/([0-9a-f]{32})/.exec((await link.getAttribute("href"))!)![1]!;
    assert.notEqual(batchTraceId, traceId);
    await link.click();
    await page.waitForURL(`**/trace/${batchTraceId}#span-*`);
    await rendered();
    await page.locator("#detail").waitFor();
    assert.match((await page.locator("#detail").textContent())!, /messaging\.batch\.message_count/);
    const back = page.locator(`.linked a[href="/trace/${traceId}"]`);
    await back.click();
    await page.waitForURL(`**/trace/${traceId}`);
    await rendered();
    await rowOf("POST /onboard").waitFor();
  });

  it("filters errors only and shows the rejected request as an error in the list and the waterfall", async () => {
    await page.goto(`${stack.traceView!.url}/`);
    await page.selectOption("#errors", "1");
    await page.click("#search button[type=submit]");
    await page.waitForURL(/\/search\?.*errors=1/);
    await rendered();
    const errorRow = page.locator(`tr.trace-row.error[data-trace-id="${rejectedTraceId}"]`);
    await errorRow.waitFor();
    assert.match((await errorRow.textContent())!, /1 error/);
    assert.equal(await page.locator(`tr.trace-row[data-trace-id="${traceId}"]`).count(), 0, "the 202 is not an error");

    await errorRow.locator("a").click();
    await page.waitForURL(`**/trace/${rejectedTraceId}`);
    await rendered();
    const server = rowOf("POST /onboard");
    await server.waitFor();
    assert.match((await server.getAttribute("class"))!, /\berror\b/);
    assert.equal(await server.locator(".bar.error").count(), 1);
    await server.click();
    assert.match((await page.locator("#detail").textContent())!, /http\.response\.status_code\s*400/);
  });

  it("filters by service and operation, and hides batch traces unless asked", async () => {
    await page.goto(`${stack.traceView!.url}/`);
    await page.locator('#service option[value="onboarding-lambda"]').waitFor({ state: "attached" });
    await page.selectOption("#service", "onboarding-lambda");
    await page.locator('#operation option[value="process onboarding"]').waitFor({ state: "attached" });
    await page.selectOption("#operation", "process onboarding");
    await page.click("#search button[type=submit]");
    await page.waitForURL(/service=onboarding-lambda/);
    await rendered();
    await page.locator(`tr[data-trace-id="${traceId}"]`).waitFor();
    // The URL changes before the filtered list replaces the previous one: wait for the re-render, don't sample it.
    await page.locator(`tr[data-trace-id="${rejectedTraceId}"]`).waitFor({ state: "detached", timeout: 15_000 });
    const rows = await page.locator("tr.trace-row").count();

    await page.selectOption("#operation", "");
    await page.check("#batch");
    await page.click("#search button[type=submit]");
    await page.waitForURL(/batch=1/);
    await rendered();
    await page.waitForFunction(`document.querySelectorAll("tr.trace-row").length > ${rows}`);
    assert.ok((await page.locator(".badge.batch").count()) > 0, "batch traces listed when asked");
  });

  it("shows span events (a recorded exception) in the detail panel, and offers the OTLP JSON download", async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const response = await fetch(`${stack.otlpHttp!.endpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: "service.name", value: { stringValue: "event-test" } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: EVENT_TRACE,
                    spanId: "1".repeat(16),
                    name: "POST /onboard",
                    kind: 2,
                    startTimeUnixNano: String(now),
                    endTimeUnixNano: String(now + 5_000_000n),
                    attributes: [{ key: "http.response.status_code", value: { intValue: "503" } }],
                    events: [
                      {
                        name: "exception",
                        timeUnixNano: String(now + 2_000_000n),
                        attributes: [
                          { key: "exception.type", value: { stringValue: "TimeoutError" } },
                          { key: "exception.message", value: { stringValue: "queue did not answer" } },
                        ],
                      },
                    ],
                    status: { code: 2, message: "queue_unavailable" },
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    assert.equal(response.status, 200);
    await page.goto(`${stack.traceView!.url}/trace/${EVENT_TRACE}`);
    await rowOf("POST /onboard").click();
    const event = page.locator("#detail .event.exception");
    await event.waitFor();
    const text = (await event.textContent())!;
    assert.match(text, /exception \+2\.00 ms/);
    assert.match(text, /exception\.type\s*TimeoutError/);
    assert.match(text, /exception\.message\s*queue did not answer/);
    assert.match((await page.locator("#detail").textContent())!, /ERROR: queue_unavailable/);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    assert.equal(download.suggestedFilename(), `trace-${EVENT_TRACE}.otlp.json`);
  });

  it("on a slow server, a search answer that arrives after leaving the page never paints over the trace", async () => {
    const slow = await browser!.context.newPage();
    try {
      // Every search answer takes 1.5 s: the list's first load (and each 3 s refresh) is still in flight when the
      // trace is opened.
      await slow.route("**/api/local/traces?*", async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await route.continue();
      });
      await slow.goto(`${stack.traceView!.url}/`);
      await slow.fill("#find-id", traceId);
      await slow.click("#find button");
      await slow.waitForURL(`**/trace/${traceId}`);
      await slow.locator('#main[aria-busy="false"]').waitFor();
      await slow.locator(".span-row").nth(3).waitFor();
      // Past the late search answer and one refresh period: the trace must still be what is shown.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      assert.equal(await slow.locator("tr.trace-row").count(), 0, "no search list painted over the trace");
      assert.equal(await slow.locator(".span-row").count(), 4);
      assert.match(slow.url(), new RegExp(`/trace/${traceId}$`));
    } finally {
      await slow.close();
    }
  });
});
