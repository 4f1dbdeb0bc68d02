/**
 * The synthetic check a CloudWatch Synthetics canary runs (packages/traced-components/src/api-canary.ts packages this file as
 * `nodejs/node_modules/onboard-canary.js`, handler `onboard-canary.handler`): one POST /onboard of a synthetic
 * customer to API_URL, which must answer 202 with the same customer_id and a trace_id. A thrown error fails the run
 * (SuccessPercent 0), a return passes it. Only Node built-ins (fetch, crypto), so it does not depend on the
 * runtime's Synthetics module, whose name changed in syn-nodejs-puppeteer-13.1.
 *
 * Synthetic traffic is recognisable everywhere downstream: customer_id starts with SYNTHETIC-, the user-agent is
 * traced-onboarding-canary, and the email is at example.com (RFC 2606: reaches nobody).
 */
const USER_AGENT = "traced-onboarding-canary";
const CUSTOMER_PREFIX = "SYNTHETIC-";
const TIMEOUT_MS = 10_000;

/** A valid onboarding request for a synthetic customer; `id` makes it unique per run. */
function syntheticCustomer(now = new Date(), id = globalThis.crypto.randomUUID()) {
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 15);
  const short = id.replace(/-/g, "").slice(0, 8);
  return {
    customer_id: `${CUSTOMER_PREFIX}${stamp}-${short}`,
    email: `canary+${short}@example.com`,
    company_size: "small",
    name: "Synthetic Canary",
  };
}

/** POSTs `customer` to `<apiUrl>/onboard`; resolves with the API's answer, throws unless it accepted it. */
async function onboard(apiUrl, customer = syntheticCustomer(), timeoutMs = TIMEOUT_MS) {
  const response = await fetch(new URL("/onboard", apiUrl), {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": USER_AGENT },
    body: JSON.stringify(customer),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (response.status !== 202) {
    throw new Error(`POST /onboard answered ${response.status} for ${customer.customer_id}: ${text.slice(0, 500)}`);
  }
  const body = JSON.parse(text);
  if (body.customer_id !== customer.customer_id || typeof body.trace_id !== "string") {
    throw new Error(`POST /onboard accepted ${customer.customer_id} with an unexpected body: ${text.slice(0, 500)}`);
  }
  console.log(
    JSON.stringify({
      message: "synthetic customer accepted",
      customer_id: body.customer_id,
      request_id: body.request_id,
      trace_id: body.trace_id,
    }),
  );
  return body;
}

/** The canary's entry point. */
async function handler() {
  const apiUrl = process.env.API_URL;
  if (!apiUrl) throw new Error("API_URL is not set: the canary's run config must pass the API's URL");
  return onboard(apiUrl);
}

module.exports = { handler, onboard, syntheticCustomer, USER_AGENT, CUSTOMER_PREFIX };
