/**
 * The SDK-free Secrets Manager read (@smithy/signature-v4 + node:https) against a local stub that checks what
 * AWS checks: the JSON 1.1 target and content type, the credential scope, the signed headers and the signature
 * itself (recomputed independently from the request as received).
 */
import assert from "node:assert/strict";
import { getSecretString, NodeSha256, type AwsCredentials } from "../../lambda/src/secrets";
import { parseApiKeySecret } from "../../lambda/src/tracing";
import { checkSigV4, secretValueBody, startSecretsStub, type StubReply, type StubRequest } from "./secrets-stub";

const withToken: AwsCredentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "session-token/with+chars==",
};
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cx-AbCdEf";
const NOW = new Date("2026-11-25T10:15:30.123Z");

async function readOnce(
  reply: StubReply,
  credentials: AwsCredentials = withToken,
  timeoutMillis = 3000,
): Promise<{ result: PromiseSettledResult<string>; requests: StubRequest[]; host: string }> {
  const stub = await startSecretsStub(() => reply);
  try {
    const [result] = await Promise.allSettled([
      getSecretString(SECRET_ARN, {
        region: "eu-west-1",
        credentials,
        endpoint: stub.endpoint,
        timeoutMillis,
        now: () => NOW,
      }),
    ]);
    return { result, requests: stub.requests, host: new URL(stub.endpoint).host };
  } finally {
    await stub.close();
  }
}

function rejection(result: PromiseSettledResult<string>): string {
  assert.equal(result.status, "rejected", "expected the read to fail");
  return String((result as PromiseRejectedResult).reason?.message);
}

describe("runtime: Secrets Manager read without the SDK", () => {
  it("sends one signed GetSecretValue (JSON 1.1, scope, signed headers, session token) and returns SecretString", async () => {
    const { result, requests, host } = await readOnce({ status: 200, body: secretValueBody("k-123") });
    assert.equal(result.status, "fulfilled", String((result as PromiseRejectedResult).reason));
    assert.equal(parseApiKeySecret((result as PromiseFulfilledResult<string>).value, SECRET_ARN), "k-123");
    assert.equal(requests.length, 1);
    const [req] = requests;
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/");
    assert.equal(req.headers["x-amz-target"], "secretsmanager.GetSecretValue");
    assert.equal(req.headers["content-type"], "application/x-amz-json-1.1");
    assert.deepEqual(JSON.parse(req.body), { SecretId: SECRET_ARN });
    assert.equal(req.headers["x-amz-date"], "20261125T101530Z");
    assert.equal(req.headers["x-amz-security-token"], withToken.sessionToken);
    assert.equal(req.headers.host, host); // 127.0.0.1:<port>, as signed
    const sig = checkSigV4(req, withToken.secretAccessKey);
    assert.equal(sig.accessKeyId, "AKIDEXAMPLE");
    assert.equal(sig.scope, "20261125/eu-west-1/secretsmanager/aws4_request");
    for (const h of ["host", "x-amz-date", "x-amz-security-token", "x-amz-target", "content-type"]) {
      assert.ok(sig.signedHeaders.includes(h), `${h} must be signed (signed: ${sig.signedHeaders.join(";")})`);
    }
    assert.equal(sig.signature, sig.expectedSignature, "signature does not verify");
    // The verifier is not vacuous: another secret key gives another signature.
    assert.notEqual(sig.signature, checkSigV4(req, "not-the-key").expectedSignature);
  });

  it("without a session token: no x-amz-security-token header, signature still verifies", async () => {
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "plain-secret" };
    const { result, requests } = await readOnce({ status: 200, body: secretValueBody("k") }, credentials);
    assert.equal(result.status, "fulfilled");
    const [req] = requests;
    assert.equal(req.headers["x-amz-security-token"], undefined);
    const sig = checkSigV4(req, credentials.secretAccessKey);
    assert.deepEqual(sig.signedHeaders, ["content-type", "host", "x-amz-date", "x-amz-target"]);
    assert.equal(sig.signature, sig.expectedSignature);
  });

  it("error responses reject with clear messages", async () => {
    const notFound = await readOnce({
      status: 400,
      body: JSON.stringify({ __type: "ResourceNotFoundException", message: "Secrets Manager can't find it" }),
    });
    assert.match(rejection(notFound.result), /^GetSecretValue failed: HTTP 400 .*ResourceNotFoundException/);
    const denied = await readOnce({ status: 403, body: JSON.stringify({ __type: "AccessDeniedException" }) });
    assert.match(rejection(denied.result), /^GetSecretValue failed: HTTP 403 .*AccessDeniedException/);
    const malformed = await readOnce({ status: 200, body: "<html>not json" });
    assert.match(rejection(malformed.result), /^GetSecretValue: .*JSON/);
    const binary = await readOnce({ status: 200, body: JSON.stringify({ SecretBinary: "AAEC" }) });
    assert.equal(rejection(binary.result), "GetSecretValue: response has no SecretString");
    const hung = await readOnce("hang", withToken, 200);
    assert.equal(rejection(hung.result), "GetSecretValue timed out");
  });

  it("the secret must be JSON with a non-empty api_key", () => {
    assert.equal(parseApiKeySecret('{"api_key":" k "}', "arn"), "k");
    for (const bad of ["k", '{"key":"k"}', '{"api_key":""}', undefined]) {
      assert.throws(
        () => parseApiKeySecret(bad, "arn:x"),
        /Secret arn:x has no "api_key" string \(expected SecretString \{"api_key":"<key>"\}\)/,
      );
    }
  });

  it("NodeSha256: SHA-256 and HMAC-SHA-256 (RFC 4231 case 2) digests, reset", async () => {
    const hash = new NodeSha256();
    hash.update(new TextEncoder().encode("abc"));
    assert.equal(
      Buffer.from(await hash.digest()).toString("hex"),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    const mac = new NodeSha256("Jefe");
    mac.update(new TextEncoder().encode("ignored"));
    mac.reset();
    mac.update(new TextEncoder().encode("what do ya want for nothing?"));
    assert.equal(
      Buffer.from(await mac.digest()).toString("hex"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });
});
