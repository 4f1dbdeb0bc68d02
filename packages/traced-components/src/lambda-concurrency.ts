/**
 * Reserved Lambda concurrency against the account's limit. Lambda keeps 100 of the account's concurrent executions
 * unreserved, so a function may reserve at most limit − 100 ("You can reserve up to the Unreserved account
 * concurrency value … minus 100", https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html), and
 * new accounts often start with a limit of 10 (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
 * there any reservation fails at create time, after the rest of the stack is already deployed.
 *
 * pulumi-aws has no Lambda account-settings data source (no `aws.lambda.getAccountSettings`), so the limit comes
 * from Service Quotas (`aws.servicequotas.getServiceQuota`, which falls back to the AWS default when the quota was
 * never changed). Invokes run during `pulumi preview` too, so a preview fails the same way; the deploying (and
 * previewing) identity needs `servicequotas:GetServiceQuota`, and only when a reservation is configured.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Service Quotas' "Concurrent executions" quota of Lambda (per account and region). */
export const LAMBDA_CONCURRENCY_QUOTA = {
  serviceCode: "lambda",
  quotaCode: "L-B99A9384",
  quotaName: "Concurrent executions",
} as const;

/** Concurrency Lambda keeps for functions without a reservation; reservations may not eat into it. */
export const MINIMUM_UNRESERVED_CONCURRENCY = 100;

/**
 * The problem with reserving `reserved` in an account whose concurrency limit is `accountLimit` (undefined when it
 * fits). `setting` names what the operator changes, e.g. a stack config key.
 */
export function reservedConcurrencyProblem(
  reserved: number,
  accountLimit: number,
  setting: string,
): string | undefined {
  const maximum = accountLimit - MINIMUM_UNRESERVED_CONCURRENCY;
  if (reserved <= maximum) return undefined;
  const { serviceCode, quotaCode, quotaName } = LAMBDA_CONCURRENCY_QUOTA;
  const fix =
    maximum >= 1
      ? `set ${setting} to at most ${maximum} (limit − ${MINIMUM_UNRESERVED_CONCURRENCY}) or leave it unset (-1)`
      : `leave ${setting} unset (-1)`;
  return (
    `${setting} (${reserved}) cannot be reserved: this account's Lambda "${quotaName}" quota ` +
    `(Service Quotas ${serviceCode} ${quotaCode}) is ${accountLimit}, and Lambda keeps ` +
    `${MINIMUM_UNRESERVED_CONCURRENCY} unreserved, so at most ${Math.max(maximum, 0)} can be reserved. ` +
    `Fix: ${fix}, or request a quota increase to at least ${reserved + MINIMUM_UNRESERVED_CONCURRENCY} ` +
    `(aws service-quotas request-service-quota-increase --service-code ${serviceCode} --quota-code ${quotaCode} ` +
    `--desired-value ${reserved + MINIMUM_UNRESERVED_CONCURRENCY}).`
  );
}

/**
 * `reserved`, once the account's limit allows it; otherwise an Output that fails with
 * {@link reservedConcurrencyProblem}. Used as the function's `reservedConcurrentExecutions`, so a reservation the
 * account cannot grant stops the program before the function is created.
 */
export function checkedReservedConcurrency(
  reserved: number,
  setting: string,
  parent: pulumi.Resource,
): pulumi.Output<number> {
  const { serviceCode, quotaCode } = LAMBDA_CONCURRENCY_QUOTA;
  const quota = aws.servicequotas.getServiceQuotaOutput({ serviceCode, quotaCode }, { parent });
  return quota.value.apply((limit) => {
    const problem = reservedConcurrencyProblem(reserved, limit, setting);
    if (problem) throw new pulumi.RunError(problem);
    return reserved;
  });
}
