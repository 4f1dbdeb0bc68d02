import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { COMPANY_SIZES, type OnboardRequest } from "../../contract/onboarding";

const FIRST = ["Ada", "Grace", "Alan", "Barbara", "Edsger", "Frances", "Ken", "Radia", "Tim", "Margaret"];
const LAST = ["Lovelace", "Hopper", "Turing", "Liskov", "Dijkstra", "Allen", "Thompson", "Perlman", "Berners-Lee"];

function pick<T>(items: readonly T[]): T {
  return items[randomInt(items.length)];
}

/**
 * A valid, unique `POST /onboard` body (the contract's request): every field the API requires, nothing else.
 * example.com addresses are reserved: nothing is ever mailed.
 */
export function randomCustomer(): OnboardRequest {
  const first = pick(FIRST);
  const last = pick(LAST);
  return {
    customer_id: randomUUID(),
    email: `${first}.${last}.${randomBytes(4).toString("hex")}@example.com`.toLowerCase(),
    company_size: pick(COMPANY_SIZES),
    name: `${first} ${last}`,
  };
}
