/**
 * Reads the Coralogix key from Secrets Manager without loading the AWS SDK at init.
 *
 * Loading `@aws-sdk/client-secrets-manager` (+ credential providers, middleware stack) costs ~50–60 ms of cold
 * start, more than the whole bundle. Inside Lambda the execution role's credentials are always in the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), so one SigV4-signed `GetSecretValue` POST
 * (AWS JSON 1.1) over node:https does the same job. Signing is the SDK's own `@smithy/signature-v4` (with a
 * node:crypto SHA-256, what `@smithy/hash-node` does); no SDK client, credential chain or middleware stack.
 * Without env credentials (e.g. a developer machine) the caller falls back to the SDK.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { SignatureV4 } from "@smithy/signature-v4";

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

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Smithy's `Checksum` (SHA-256, or HMAC-SHA-256 with a secret) over node:crypto. */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.create(secret);
  }
  private static create(secret?: SourceData): Hash | Hmac {
    return secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(chunk: Uint8Array): void {
    this.hash.update(toBuffer(chunk));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

const SERVICE = "secretsmanager";

export interface GetSecretOptions {
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** e.g. `AWS_ENDPOINT_URL_SECRETS_MANAGER`; default `https://secretsmanager.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  readonly timeoutMillis?: number;
  readonly now?: () => Date;
}

/** `GetSecretValue` → SecretString. Rejects on HTTP errors, timeouts and missing SecretString. */
export async function getSecretString(secretId: string, options: GetSecretOptions): Promise<string> {
  const url = new URL(options.endpoint ?? `https://${SERVICE}.${options.region}.amazonaws.com`);
  const body = JSON.stringify({ SecretId: secretId });
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: SERVICE,
    sha256: NodeSha256,
    applyChecksum: false, // x-amz-content-sha256 is only required by S3
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: "/",
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.GetSecretValue",
      },
      body,
    },
    { signingDate: (options.now ?? (() => new Date()))() },
  );
  const headers = signed.headers;
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
