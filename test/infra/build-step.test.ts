import * as assert from "node:assert/strict";
import { ensureBundles } from "../../infra/build-step";
import { installMocks } from "./mocks";

describe("bundle build before images", () => {
  it("runs the build on pulumi up", () => {
    installMocks({ preview: false });
    let builds = 0;
    assert.equal(
      ensureBundles(true, () => builds++),
      true,
    );
    assert.equal(builds, 1);
  });

  it("skips it on preview, which builds no images", () => {
    installMocks({ preview: true });
    let builds = 0;
    assert.equal(
      ensureBundles(true, () => builds++),
      false,
    );
    assert.equal(builds, 0);
  });

  it("skips it when buildBundles is false", () => {
    installMocks({ preview: false });
    let builds = 0;
    assert.equal(
      ensureBundles(false, () => builds++),
      false,
    );
    assert.equal(builds, 0);
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
