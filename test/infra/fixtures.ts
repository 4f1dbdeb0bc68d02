/** Shared inputs for component tests. */
import * as pulumi from "@pulumi/pulumi";

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
