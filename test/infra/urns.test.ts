// Moving the components into packages/traced-components must not replace anything for current users: the
// stack registers exactly the URNs it did before (a changed type token, name or parent changes a URN, and the engine
// replaces a resource whose URN changed unless an alias maps it). fixtures/urns-before-package.json holds the URNs
// main's program (commit `generatedFrom`) registered for each case of urn-cases.ts; it was generated once, from that
// commit's tree, and must not be regenerated from this code.
import * as assert from "node:assert/strict";
import { STACK_RUN_TEST_TIMEOUT_MS } from "../../harness/run-program";
import { stackRun } from "../../harness/stack-modes";
import before from "./fixtures/urns-before-package.json";
import { URN_CASES } from "./urn-cases";

describe("URNs are the same as before the package move", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);

  it("has a fixture for every case", () => {
    assert.deepEqual(Object.keys(before.cases).sort(), Object.keys(URN_CASES).sort());
  });

  for (const [name, mode] of Object.entries(URN_CASES)) {
    // Only the old URNs are checked: a resource added since is not a replacement, a renamed or retyped one
    // (or one under a renamed parent) is missing here.
    it(`${name}: registers every URN it registered before`, async () => {
      const run = await stackRun(mode);
      const now = new Set(run.resources.map((r) => r.urn));
      const was = (before.cases as Record<string, string[]>)[name];
      assert.ok(was.length > 50, "the fixture holds the whole stack");
      assert.deepEqual(
        was.filter((u) => !now.has(u)),
        [],
      );
    });
  }
});
