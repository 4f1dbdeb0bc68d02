/** Shared inputs for component tests. */
import * as pulumi from "@pulumi/pulumi";
import type { QueueConsumer } from "../../packages/traced-components/src/delivery-rules";
import { TracedQueue } from "../../packages/traced-components/src/traced-queue";
import { installMocks } from "../../harness/mocks";

export const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:coralogix-AbCdEf";
export const SECRET_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/secret-key";
export const TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:alarms";

/** Stands in for a TelemetrySecret: only the ARNs, as the components take them. */
export const fakeSecret = () => ({ arn: pulumi.output(SECRET_ARN), keyArn: pulumi.output(SECRET_KEY_ARN) });

/** The telemetry identity every traced service takes (TracedServiceArgs without the secret), for one Coralogix domain. */
export const serviceIdentityArgs = (coralogixDomain: string) => ({
  coralogixDomain,
  applicationName: "customer-onboarding",
  serviceVersion: "1.2.3",
  deploymentEnvironment: "dev",
});

/**
 * What every compute-component test starts from: fresh mocks, a queue "orders" (sized for `consumer` when given)
 * and the args every traced service takes — identity, that queue and a fake secret.
 */
export function tracedServiceArgs(coralogixDomain: string, consumer?: QueueConsumer) {
  installMocks();
  const queue = new TracedQueue("orders", { consumer });
  return { ...serviceIdentityArgs(coralogixDomain), queue, secret: fakeSecret() };
}

/** The grants reading the fake secret: its value and its key, nothing else (as `grantsOf` lists them). */
export const SECRET_READ_GRANTS = {
  ReadTelemetrySecret: { effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: [SECRET_ARN] },
  DecryptTelemetrySecret: { effect: "Allow", actions: ["kms:Decrypt"], resources: [SECRET_KEY_ARN] },
} as const;
