/**
 * Reads the Coralogix key from Secrets Manager without loading the AWS SDK at init: one signed `GetSecretValue`
 * (AWS JSON 1.1) through the shared SDK-free call (aws-json.ts). Without env credentials (e.g. a developer machine)
 * the caller falls back to the SDK.
 */
import { createAwsJsonClient, type AwsCredentials } from "./aws-json";

export { credentialsFromEnv, NodeSha256, type AwsCredentials } from "./aws-json";

const SECRETS_MANAGER = { signingName: "secretsmanager", targetPrefix: "secretsmanager", jsonVersion: "1.1" } as const;

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
  const call = createAwsJsonClient(SECRETS_MANAGER, options);
  const output = await call<{ SecretString?: unknown }>("GetSecretValue", { SecretId: secretId });
  if (typeof output.SecretString !== "string") throw new Error("GetSecretValue: response has no SecretString");
  return output.SecretString;
}
