import * as assert from "node:assert/strict";
import { envNonNegativeNumber, envOneOf, envPositiveInteger, envString } from "../../telemetry/env";

describe("telemetry/env readers", () => {
  it("envString: trimmed; unset or blank → undefined", () => {
    assert.equal(envString({ A: "  x y " }, "A"), "x y");
    assert.equal(envString({ A: " \t " }, "A"), undefined);
    assert.equal(envString({}, "A"), undefined);
  });

  it("envNonNegativeNumber: a finite number ≥ 0, anything else → undefined (the caller's default)", () => {
    assert.equal(envNonNegativeNumber({ A: " 250 " }, "A"), 250);
    assert.equal(envNonNegativeNumber({ A: "0" }, "A"), 0);
    assert.equal(envNonNegativeNumber({ A: "1.5" }, "A"), 1.5);
    for (const bad of ["-1", "soon", "Infinity", ""]) assert.equal(envNonNegativeNumber({ A: bad }, "A"), undefined);
  });

  it("envPositiveInteger: unset → undefined; invalid throws naming the variable, the unit and the value", () => {
    assert.equal(envPositiveInteger({ T: " 65000 " }, "T", "milliseconds"), 65000);
    assert.equal(envPositiveInteger({ T: "" }, "T"), undefined);
    assert.throws(() => envPositiveInteger({ T: "soon" }, "T", "milliseconds"), {
      message: 'T must be a positive integer number of milliseconds, got "soon"',
    });
    for (const bad of ["0", "-5", "1.5"]) {
      assert.throws(() => envPositiveInteger({ T: bad }, "T"), {
        message: `T must be a positive integer, got "${bad}"`,
      });
    }
  });

  it("envOneOf: the listed value (optionally ignoring case); others throw naming the variable, value and choices", () => {
    const values = ["grpc", "http/protobuf"] as const;
    assert.equal(envOneOf({ P: " HTTP/protobuf " }, "P", values, { ignoreCase: true }), "http/protobuf");
    assert.equal(envOneOf({ P: " " }, "P", values), undefined);
    assert.throws(() => envOneOf({ P: "GRPC" }, "P", values), {
      message: 'P="GRPC" is not supported; use one of: grpc, http/protobuf',
    });
    assert.throws(() => envOneOf({ P: "br" }, "P", ["gzip", "none"], { hint: " here (use gzip or none)" }), {
      message: 'P="br" is not supported here (use gzip or none)',
    });
  });
});
