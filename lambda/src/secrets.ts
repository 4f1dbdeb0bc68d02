/**
 * Reads the Coralogix key from Secrets Manager without loading the AWS SDK at init.
 *
 * Loading `@aws-sdk/client-secrets-manager` (+ credential providers, middleware stack) costs ~50–60 ms of cold
 * start, more than the whole bundle. Inside Lambda the execution role's credentials are always in the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), so one SigV4-signed `GetSecretValue` POST
 * (AWS JSON 1.1) over node:https does the same job. The signer is checked against `@smithy/signature-v4` in
 * test/runtime/secrets.test.ts. Without env credentials (e.g. a developer machine) the caller falls back to the SDK.
 */
import { createHash, createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

const sha256Hex = (data: string): string => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** `20150830T123600Z` */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, "");
}

export interface SignableRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  /** Lowercase names; `host` and `x-amz-date` are added by {@link signRequest}. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * AWS Signature Version 4 (header auth) for a request without a query string. Returns the headers to send
 * (incl. `authorization`, `x-amz-date` and, with a session token, `x-amz-security-token`).
 */
export function signRequest(
  req: SignableRequest,
  credentials: AwsCredentials,
  region: string,
  service: string,
  now: Date,
): Record<string, string> {
  const stamp = amzDate(now);
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = { ...req.headers, host: req.host, "x-amz-date": stamp };
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, " ");
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = [req.method, req.path, "", canonicalHeaders, signedHeaders, sha256Hex(req.body)].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service), "aws4_request");
  const signature = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

export interface GetSecretOptions {
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** e.g. `AWS_ENDPOINT_URL_SECRETS_MANAGER`; default `https://secretsmanager.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  readonly timeoutMillis?: number;
  readonly now?: () => Date;
}

/** `GetSecretValue` → SecretString. Rejects on HTTP errors, timeouts and missing SecretString. */
export function getSecretString(secretId: string, options: GetSecretOptions): Promise<string> {
  const url = new URL(options.endpoint ?? `https://secretsmanager.${options.region}.amazonaws.com`);
  const body = JSON.stringify({ SecretId: secretId });
  const headers = signRequest(
    {
      method: "POST",
      host: url.host,
      path: "/",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.GetSecretValue",
      },
      body,
    },
    options.credentials,
    options.region,
    "secretsmanager",
    (options.now ?? (() => new Date()))(),
  );
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise<string>((resolve, reject) => {
    const req = send(
      {
        hostname: url.hostname,
        port: url.port || undefined,
        path: "/",
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        timeout: options.timeoutMillis ?? 3000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) {
            reject(new Error(`GetSecretValue failed: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
            return;
          }
          try {
            const parsed = JSON.parse(text) as { SecretString?: unknown };
            if (typeof parsed.SecretString !== "string") throw new Error("response has no SecretString");
            resolve(parsed.SecretString);
          } catch (error) {
            reject(new Error(`GetSecretValue: ${(error as Error).message}`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("GetSecretValue timed out")));
    req.on("error", reject);
    req.end(body);
  });
}
