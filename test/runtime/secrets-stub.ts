/**
 * A local Secrets Manager stand-in for the SDK-free secret read (lambda/src/secrets.ts): a real HTTP server that
 * records each request and checks its SigV4 signature the way AWS does, independently of the signer under test
 * (canonical request rebuilt from what actually arrived on the wire, signing key derived with node:crypto).
 */
import { once } from "node:events";
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";

export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type StubReply = { readonly status: number; readonly body: string } | "hang";

export interface SecretsStub {
  /** `http://127.0.0.1:<port>` (for `AWS_ENDPOINT_URL_SECRETS_MANAGER`). */
  readonly endpoint: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

export async function startSecretsStub(reply: (req: StubRequest) => StubReply): Promise<SecretsStub> {
  const requests: StubRequest[] = [];
  const hung: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const seen: StubRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
      requests.push(seen);
      const answer = reply(seen);
      if (answer === "hang") {
        hung.push(res);
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1" });
      res.end(answer.body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `{"SecretString": "{\"api_key\":\"<key>\"}"}`, what GetSecretValue returns for the Coralogix secret. */
export function secretValueBody(apiKey: string): string {
  return JSON.stringify({ ARN: "arn:x", Name: "cx", SecretString: JSON.stringify({ api_key: apiKey }) });
}

export interface SigV4Check {
  readonly accessKeyId: string;
  /** `<yyyymmdd>/<region>/<service>/aws4_request` */
  readonly scope: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  /** What the signature must be for this request and secret key. */
  readonly expectedSignature: string;
}

const sha256Hex = (data: string): string => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** Parses the Authorization header and recomputes the signature from the received request (no query string). */
export function checkSigV4(req: StubRequest, secretAccessKey: string): SigV4Check {
  const auth = String(req.headers.authorization ?? "");
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8}\/[^/]+\/[^/]+\/aws4_request), SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) throw new Error(`malformed Authorization header: ${auth}`);
  const [, accessKeyId, scope, signedHeaderList, signature] = match;
  const signedHeaders = signedHeaderList.split(";");
  const canonicalHeaders = signedHeaders
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const canonicalRequest = [req.method, req.path, "", canonicalHeaders, signedHeaderList, sha256Hex(req.body)].join(
    "\n",
  );
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const [day, region, service] = scope.split("/");
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), "aws4_request");
  const expectedSignature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  return { accessKeyId, scope, signedHeaders, signature, expectedSignature };
}
