import * as assert from "node:assert/strict";
import { ensureBundles } from "../../infra/build-step";
import { installMocks } from "../../harness/mocks";

/** Runs `ensureBundles` under mocks for a preview or an update; returns its answer and how many builds it ran. */
function ensure(preview: boolean, buildBundles: boolean): { built: boolean; builds: number } {
  installMocks({ preview });
  let builds = 0;
  const built = ensureBundles(buildBundles, () => builds++);
  return { built, builds };
}

describe("bundle build before images", () => {
  it("runs the build on pulumi up", () => {
    assert.deepEqual(ensure(false, true), { built: true, builds: 1 });
  });

  it("skips it on preview, which builds no images", () => {
    assert.deepEqual(ensure(true, true), { built: false, builds: 0 });
  });

  it("skips it when buildBundles is false", () => {
    assert.deepEqual(ensure(false, false), { built: false, builds: 0 });
  });

  it("propagates a failed build so pulumi up stops before pushing stale images", () => {
    installMocks({ preview: false });
    assert.throws(
      () =>
        ensureBundles(true, () => {
          throw new Error("esbuild failed");
        }),
      /esbuild failed/,
    );
  });
});
