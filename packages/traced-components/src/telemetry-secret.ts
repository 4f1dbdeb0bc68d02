/**
 * TelemetrySecret: the Coralogix "send your data" key in Secrets Manager, encrypted with its own customer-managed
 * key. The value is the JSON `{"api_key": "<key>"}` because Firehose's Secrets Manager integration for HTTP
 * endpoints only accepts that shape; ECS selects the field with `valueFrom: "<arn>:api_key::"` and the Lambda
 * parses it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./iam";
import { createCustomerManagedKey } from "./kms";
import { checkIntegerRange, throwIfInvalid } from "./validation";

/** The JSON field holding the key (fixed by Firehose). */
export const API_KEY_FIELD = "api_key";

export interface TelemetrySecretArgs {
  /**
   * The Coralogix send-your-data API key, from secret config. It only ever travels as a secret Output.
   * @example config.requireSecret("coralogixApiKey")
   */
  readonly apiKey: pulumi.Output<string>;
  /**
   * Days Secrets Manager keeps a deleted secret recoverable (7 to 30, or 0 to delete at once).
   * @default 7
   * @example 30
   */
  readonly recoveryWindowInDays?: number;
}

/** Every problem with the args (empty when valid). */
export function validateTelemetrySecretArgs(args: Omit<TelemetrySecretArgs, "apiKey">): string[] {
  const problems: string[] = [];
  const window = args.recoveryWindowInDays;
  if (window !== undefined && window !== 0) checkIntegerRange(problems, "recoveryWindowInDays", window, 7, 30);
  return problems;
}

/** The Coralogix send-your-data key in Secrets Manager as `{"api_key": …}`, encrypted with its own KMS key. */
export class TelemetrySecret extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly secret: aws.secretsmanager.Secret;
  readonly arn: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: TelemetrySecretArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("TelemetrySecret", name, validateTelemetrySecretArgs(args));
    super("traced:aws:TelemetrySecret", name, {}, opts);

    this.key = createCustomerManagedKey(
      `${name}-key`,
      { description: `Encrypts the ${name} Coralogix key secret`, viaServices: ["secretsmanager"] },
      this,
    );
    this.secret = new aws.secretsmanager.Secret(
      name,
      {
        description: 'Coralogix send-your-data API key as JSON {"api_key": "..."}',
        kmsKeyId: this.key.arn,
        recoveryWindowInDays: args.recoveryWindowInDays ?? 7,
      },
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-value`,
      {
        secretId: this.secret.id,
        secretString: pulumi.secret(pulumi.jsonStringify({ [API_KEY_FIELD]: args.apiKey })),
      },
      { parent: this },
    );

    this.arn = this.secret.arn;
    this.keyArn = this.key.arn;
    this.registerOutputs({ arn: this.arn, keyArn: this.keyArn });
  }

  /** Statements allowing a role to read this secret and decrypt it. */
  get readStatements(): PolicyStatement[] {
    return secretReadStatements(this);
  }
}

/**
 * A Coralogix key secret as the other components take it: plain ARNs, so a TelemetrySecret or a secret of your own
 * (holding `{"api_key": "…"}`) fits, from TypeScript and through the provider alike.
 */
export interface TelemetrySecretRef {
  /**
   * ARN of the Secrets Manager secret.
   * @example secret.arn
   */
  readonly arn: pulumi.Input<string>;
  /**
   * ARN of the KMS key the secret is encrypted with.
   * @example secret.keyArn
   */
  readonly keyArn: pulumi.Input<string>;
}

/** Statements allowing a role to read `secret` and decrypt it with its key, nothing else. */
export function secretReadStatements(secret: TelemetrySecretRef): PolicyStatement[] {
  return [
    { sid: "ReadTelemetrySecret", actions: ["secretsmanager:GetSecretValue"], resources: [secret.arn] },
    { sid: "DecryptTelemetrySecret", actions: ["kms:Decrypt"], resources: [secret.keyArn] },
  ];
}
