/**
 * The S3 bucket every component that keeps files uses: private (all four public-access blocks), SSE-KMS with the
 * component's customer-managed key and an S3 bucket key, TLS-only, and emptied by a lifecycle rule. `forceDestroy`
 * lets `pulumi destroy` remove it with its objects.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policyDocument } from "./iam";

/** How long objects stay, and which. */
export interface PrivateBucketArgs {
  /**
   * The customer-managed key objects are encrypted with.
   * @example createCustomerManagedKey("backup-key", { description: "…", viaServices: ["s3"] }, this)
   */
  readonly key: aws.kms.Key;
  /**
   * Days before an object under `expirePrefix` is deleted.
   * @example 30
   */
  readonly expirationDays: number;
  /**
   * The lifecycle rule's id.
   * @example "expire-failed-records"
   */
  readonly ruleId: string;
  /**
   * Only objects under this prefix expire ("" for all).
   * @default ""
   * @example "results/"
   */
  readonly expirePrefix?: string;
}

/** Creates the bucket `name` with `<name>-private`, `-encryption`, `-lifecycle` and `-tls-only`. */
export function createPrivateBucket(name: string, args: PrivateBucketArgs, parent: pulumi.Resource): aws.s3.Bucket {
  const bucket = new aws.s3.Bucket(name, { forceDestroy: true }, { parent });
  new aws.s3.BucketPublicAccessBlock(
    `${name}-private`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    { parent },
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.key.arn },
          bucketKeyEnabled: true,
        },
      ],
    },
    { parent },
  );
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: args.ruleId,
          status: "Enabled",
          filter: { prefix: args.expirePrefix ?? "" },
          expiration: { days: args.expirationDays },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    { parent },
  );
  new aws.s3.BucketPolicy(
    `${name}-tls-only`,
    {
      bucket: bucket.id,
      policy: policyDocument([denyInsecureTransport(["s3:*"], [bucket.arn, pulumi.interpolate`${bucket.arn}/*`])], {
        parent,
      }),
    },
    { parent },
  );
  return bucket;
}
