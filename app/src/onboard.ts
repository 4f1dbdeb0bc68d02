/**
 * The onboarding request/message contract, shared by the API (validates requests, builds the message) and the
 * Lambda (validates the message it receives). Pure: no Koa, no AWS SDK, so the Lambda bundle stays small.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

// zod/mini (tree-shakable, ~20 KB bundled instead of ~440 KB for "zod") ships without messages; load English only.
z.config(en());

export const COMPANY_SIZES = ["small", "medium", "large", "enterprise"] as const;
export type CompanySize = (typeof COMPANY_SIZES)[number];

/** Request bodies above this many bytes are rejected with 400 before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;

const customerFields = {
  customer_id: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
  email: z.email().check(z.maxLength(254)),
  company_size: z.enum(COMPANY_SIZES),
  name: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
};

/** POST /onboard body. Strict: unknown fields are rejected. */
export const onboardRequestSchema = z.strictObject(customerFields);
export type OnboardRequest = z.infer<typeof onboardRequestSchema>;

/** The SQS message body. Unknown fields are tolerated (older/newer producers), required ones are not optional. */
export const onboardingMessageSchema = z.object({
  ...customerFields,
  request_id: z.string().check(z.minLength(1), z.maxLength(128)),
  accepted_at: z.iso.datetime(),
});
export type OnboardingMessage = z.infer<typeof onboardingMessageSchema>;

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** Flattens zod issues into one entry per offending field (unknown keys are listed one by one). */
export function fieldErrors(error: z.core.$ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ field: key, message: "unknown field" });
      continue;
    }
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "body";
    const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
    out.push({ field, message: missing ? "required" : issue.message });
  }
  return out;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function validateOnboardRequest(input: unknown): ValidationResult<OnboardRequest> {
  const parsed = onboardRequestSchema.safeParse(input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, errors: fieldErrors(parsed.error) };
}

export function validateOnboardingMessage(input: unknown): ValidationResult<OnboardingMessage> {
  const parsed = onboardingMessageSchema.safeParse(input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, errors: fieldErrors(parsed.error) };
}

export function buildOnboardingMessage(
  request: OnboardRequest,
  requestId: string,
  acceptedAt: Date,
): OnboardingMessage {
  return {
    customer_id: request.customer_id,
    email: request.email,
    company_size: request.company_size,
    name: request.name,
    request_id: requestId,
    accepted_at: acceptedAt.toISOString(),
  };
}
