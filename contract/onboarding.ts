/**
 * The onboarding contract between the API and the Lambda: the `POST /onboard` request the API validates, and the SQS
 * message it builds from it and the Lambda validates on receipt. The traffic tool, the bench and the tests send and
 * check the same shapes. Pure: no Koa, no AWS SDK, so the Lambda bundle stays small; both images copy `contract/`.
 * This directory is what the API tells the Lambda; `packages/traced-components/src/contract/` is what the deployment
 * (the components) tells the runtime.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

// zod/mini (tree-shakable, ~20 KB bundled instead of ~440 KB for "zod") ships without messages; load English only.
z.config(en());

export const COMPANY_SIZES = ["small", "medium", "large", "enterprise"] as const;
export type CompanySize = (typeof COMPANY_SIZES)[number];

/** Request bodies above this many bytes are rejected with 413 before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Code points a request's text field (`customer_id`, `name`) may not contain: C0 controls (NUL, TAB, LF and CR
 * included: the fields are single-line), DEL and the C1 controls, the line/paragraph separators U+2028/U+2029, the
 * bidi embeddings/overrides U+202A–U+202E and isolates U+2066–U+2069 (they reorder what a log or a UI shows), lone
 * surrogates, and U+FFFE/U+FFFF. Together with the controls this covers every code point SQS refuses in a message
 * body (it allows only #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF and answers anything else with
 * InvalidMessageContents); JSON.stringify escapes the controls and lone surrogates, but U+FFFE/U+FFFF go out as is.
 */
const FORBIDDEN_TEXT = "\\u0000-\\u001F\\u007F-\\u009F\\u2028-\\u202E\\u2066-\\u2069\\uD800-\\uDFFF\\uFFFE\\uFFFF";
/**
 * One regex test per text field: no forbidden code point, and at least one visible character (a letter, digit,
 * punctuation or symbol — emoji are symbols), so whitespace-only or zero-width-only values are refused.
 */
export const TEXT_FIELD_PATTERN = new RegExp(`^(?=[^]*?[\\p{L}\\p{N}\\p{P}\\p{S}])[^${FORBIDDEN_TEXT}]*$`, "u");
const FORBIDDEN_CHAR = new RegExp(`[${FORBIDDEN_TEXT}]`, "u");

/** The message for a value {@link TEXT_FIELD_PATTERN} refused (computed on the failure path only). */
export function describeTextProblem(value: unknown): string {
  const match = typeof value === "string" ? FORBIDDEN_CHAR.exec(value) : null;
  if (!match) return "must contain a visible character (a letter, digit, punctuation or symbol)";
  const codePoint = `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  return `must not contain ${codePoint} (control characters, bidi controls, lone surrogates and U+FFFE/U+FFFF are refused)`;
}

/** A trimmed single-line text field of 1 to `max` characters that passes {@link TEXT_FIELD_PATTERN}. */
const textField = (max: number) =>
  z
    .string()
    .check(
      z.trim(),
      z.minLength(1),
      z.maxLength(max),
      z.regex(TEXT_FIELD_PATTERN, { error: (issue) => describeTextProblem(issue.input) }),
    );

const customerFields = {
  customer_id: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
  email: z.email().check(z.maxLength(254)),
  company_size: z.enum(COMPANY_SIZES),
  name: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
};

/**
 * POST /onboard body. Strict: unknown fields are rejected, and the text fields must pass {@link TEXT_FIELD_PATTERN}.
 * The message schema below keeps the looser field rules, so messages already queued stay processable.
 */
export const onboardRequestSchema = z.strictObject({
  ...customerFields,
  customer_id: textField(64),
  name: textField(200),
});
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

/**
 * Flattens zod issues into one entry per offending field, its first problem (unknown keys are listed one by one).
 */
export function fieldErrors(error: z.core.$ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ field: key, message: "unknown field" });
      continue;
    }
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "body";
    if (out.some((e) => e.field === field)) continue;
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
