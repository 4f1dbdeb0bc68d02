/** The SDK-free Secrets Manager read: SigV4 must match the AWS SDK's own signer byte for byte. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { HttpRequest, SourceData } from "@smithy/types";
import { getSecretString, signRequest } from "../../lambda/src/secrets";
import { parseApiKeySecret } from "../../lambda/src/tracing";

/** The SDK's Checksum interface over node:crypto (what @smithy/hash-node does). */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret ? createHmac("sha256", toBuffer(secret)) : createHash("sha256");
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}
function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as ArrayBuffer);
}

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "session-token/with+chars==",
};

describe("runtime: Secrets Manager read without the SDK", () => {
  it("SigV4 headers equal @smithy/signature-v4's for the same request", async () => {
    const now = new Date("2026-11-25T10:15:30.123Z");
    const body = JSON.stringify({ SecretId: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cx-AbCdEf" });
    const mine = signRequest(
      {
        method: "POST",
        host: "secretsmanager.eu-west-1.amazonaws.com",
        path: "/",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.GetSecretValue" },
        body,
      },
      credentials,
      "eu-west-1",
      "secretsmanager",
      now,
    );
    const signer = new SignatureV4({
      credentials,
      region: "eu-west-1",
      service: "secretsmanager",
      sha256: Sha256,
      applyChecksum: false, // x-amz-content-sha256 is only required by S3
    });
    const request: HttpRequest = {
      method: "POST",
      protocol: "https:",
      hostname: "secretsmanager.eu-west-1.amazonaws.com",
      path: "/",
      headers: {
        host: "secretsmanager.eu-west-1.amazonaws.com",
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.GetSecretValue",
      },
      body,
      query: {},
    };
    const signed = (await signer.sign(request, { signingDate: now })) as HttpRequest;
    assert.equal(mine.authorization, signed.headers.authorization);
    assert.equal(mine["x-amz-date"], signed.headers["x-amz-date"]);
    assert.equal(mine["x-amz-security-token"], signed.headers["x-amz-security-token"]);
  });

  it("GetSecretValue over HTTP: JSON 1.1 target, signed, SecretString returned; errors reject", async () => {
    const seen: { target?: string; auth?: string; body: string }[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ target: req.headers["x-amz-target"] as string, auth: req.headers.authorization, body });
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(
          status === 200
            ? JSON.stringify({ SecretString: '{"api_key":"k-123"}' })
            : JSON.stringify({ __type: "ResourceNotFoundException" }),
        );
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const secret = await getSecretString("cx-secret", { region: "us-east-1", credentials, endpoint });
      assert.equal(parseApiKeySecret(secret, "cx-secret"), "k-123");
      assert.equal(seen[0].target, "secretsmanager.GetSecretValue");
      assert.match(
        seen[0].auth!,
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
      );
      assert.deepEqual(JSON.parse(seen[0].body), { SecretId: "cx-secret" });
      status = 400;
      await assert.rejects(
        getSecretString("cx-secret", { region: "us-east-1", credentials, endpoint }),
        /GetSecretValue failed: HTTP 400 .*ResourceNotFoundException/,
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
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
});
