import { randomBytes, randomInt, randomUUID } from "node:crypto";

/** The body of POST /onboard (issue 2): every field the API requires, nothing else. */
export interface OnboardRequest {
  customer_id: string;
  email: string;
  company_size: "small" | "medium" | "large" | "enterprise";
  name: string;
}

const SIZES: OnboardRequest["company_size"][] = ["small", "medium", "large", "enterprise"];
const FIRST = ["Ada", "Grace", "Alan", "Barbara", "Edsger", "Frances", "Ken", "Radia", "Tim", "Margaret"];
const LAST = ["Lovelace", "Hopper", "Turing", "Liskov", "Dijkstra", "Allen", "Thompson", "Perlman", "Berners-Lee"];

function pick<T>(items: readonly T[]): T {
  return items[randomInt(items.length)];
}

/** A valid, unique customer (example.com addresses are reserved: nothing is ever mailed). */
export function randomCustomer(): OnboardRequest {
  const first = pick(FIRST);
  const last = pick(LAST);
  return {
    customer_id: randomUUID(),
    email: `${first}.${last}.${randomBytes(4).toString("hex")}@example.com`.toLowerCase(),
    company_size: pick(SIZES),
    name: `${first} ${last}`,
  };
}
