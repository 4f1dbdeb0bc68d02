/**
 * One SigV4-signed call to an AWS JSON-protocol API (Secrets Manager, DynamoDB) over node:http(s), without an SDK
 * client.
 *
 * Loading an SDK client (+ credential providers, middleware stack) costs 50–100 ms of Lambda cold init per service,
 * more than the whole bundle. Inside Lambda the execution role's credentials are always in the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), so a POST with `X-Amz-Target` signed by the
 * SDK's own `@smithy/signature-v4` (with a node:crypto SHA-256, what `@smithy/hash-node` does) does the same job.
 *
 * Errors: AWS JSON protocols answer a non-2xx status with `{"__type": "<namespace>#<ErrorName>", "message": …}`
 * (DynamoDB: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html); the error
 * thrown is an {@link AwsCallError} named after that error (e.g. `ConditionalCheckFailedException`), so callers and
 * spans see the same names as with the SDK. Throttling, 5xx and network failures are marked `retryable`.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
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

/** The function's region: `AWS_REGION` (what Lambda sets), else `AWS_DEFAULT_REGION`, else us-east-1. */
export function regionFromEnv(env: NodeJS.ProcessEnv): string {
  return env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || "us-east-1";
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

/** Error names AWS uses for throttling (retry later, not a fault of the request). */
const THROTTLING = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
]);

export class AwsCallError extends Error {
  constructor(
    /** The AWS error name (`__type` without its namespace), or `TimeoutError` / the network error's code. */
    override readonly name: string,
    message: string,
    /** HTTP status, undefined when no answer arrived. */
    readonly statusCode: number | undefined,
    /** True for throttling, 5xx and network failures: the same call may succeed later. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface AwsJsonService {
  /** SigV4 signing name, e.g. `dynamodb`. */
  readonly signingName: string;
  /** `X-Amz-Target` prefix, e.g. `DynamoDB_20120810`. */
  readonly targetPrefix: string;
  /** `1.0` (DynamoDB) or `1.1` (Secrets Manager). */
  readonly jsonVersion: "1.0" | "1.1";
}

export interface AwsJsonClientOptions {
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** e.g. `AWS_ENDPOINT_URL_DYNAMODB`; default `https://<signingName>.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  /** Per call: connect + answer (default 3000 ms). */
  readonly timeoutMillis?: number;
  /** Keep connections open between calls (a store called per record); a one-off call needs none. */
  readonly keepAlive?: boolean;
  readonly now?: () => Date;
}

export type AwsJsonCall = <T>(operation: string, input: unknown) => Promise<T>;

/** A client for one service: `call(operation, input)` POSTs one signed request and resolves with the parsed answer. */
export function createAwsJsonClient(service: AwsJsonService, options: AwsJsonClientOptions): AwsJsonCall {
  const url = new URL(options.endpoint ?? `https://${service.signingName}.${options.region}.amazonaws.com`);
  const secure = url.protocol !== "http:";
  const send = secure ? httpsRequest : httpRequest;
  const agent = options.keepAlive
    ? secure
      ? new HttpsAgent({ keepAlive: true })
      : new HttpAgent({ keepAlive: true })
    : undefined;
  const timeoutMillis = options.timeoutMillis ?? 3000;
  const now = options.now ?? (() => new Date());
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: service.signingName,
    sha256: NodeSha256,
    applyChecksum: false, // x-amz-content-sha256 is only required by S3
  });
  const contentType = `application/x-amz-json-${service.jsonVersion}`;

  return async <T>(operation: string, input: unknown): Promise<T> => {
    const body = JSON.stringify(input);
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
          "content-type": contentType,
          "x-amz-target": `${service.targetPrefix}.${operation}`,
        },
        body,
      },
      { signingDate: now() },
    );
    return new Promise<T>((resolve, reject) => {
      const req = send(
        {
          hostname: url.hostname,
          port: url.port || undefined,
          path: "/",
          method: "POST",
          headers: { ...signed.headers, "content-length": String(Buffer.byteLength(body)) },
          timeout: timeoutMillis,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: Record<string, unknown> | undefined;
            try {
              parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              parsed = undefined;
            }
            if (status >= 200 && status < 300) {
              if (parsed) resolve(parsed as T);
              else reject(new AwsCallError("InvalidResponse", `${operation}: the answer is not JSON`, status, false));
              return;
            }
            reject(errorFromResponse(operation, status, parsed, text, res.headers["x-amzn-errortype"]));
          });
          res.on("error", (error) => reject(networkError(operation, error)));
        },
      );
      req.on("timeout", () => req.destroy(new AwsCallError("TimeoutError", `${operation} timed out`, undefined, true)));
      req.on("error", (error) => reject(error instanceof AwsCallError ? error : networkError(operation, error)));
      req.end(body);
    });
  };
}

function errorFromResponse(
  operation: string,
  status: number,
  parsed: Record<string, unknown> | undefined,
  text: string,
  errorTypeHeader: string | string[] | undefined,
): AwsCallError {
  // `__type` is `namespace#Name` (DynamoDB) or `Name`; the x-amzn-errortype header is `Name:…` when there is no body.
  const rawType =
    (typeof parsed?.__type === "string" ? parsed.__type : undefined) ??
    (typeof errorTypeHeader === "string" ? errorTypeHeader.split(":")[0] : undefined) ??
    `Http${status}`;
  const name = rawType.slice(rawType.lastIndexOf("#") + 1);
  const detail =
    typeof parsed?.message === "string"
      ? parsed.message
      : typeof parsed?.Message === "string"
        ? parsed.Message
        : text.slice(0, 300);
  const retryable = status >= 500 || THROTTLING.has(name);
  return new AwsCallError(name, `${operation} failed: HTTP ${status} ${name}: ${detail}`, status, retryable);
}

function networkError(operation: string, error: Error): AwsCallError {
  const code = (error as NodeJS.ErrnoException).code ?? error.name;
  return new AwsCallError(code, `${operation} failed: ${error.message}`, undefined, true, { cause: error });
}
