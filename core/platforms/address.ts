import type * as z from "zod";
import { describeIssue } from "../ingress/zod-issue";

/** Thrown when a reply target's address lacks what its platform needs (a malformed job). */
export class InvalidReplyAddressError extends Error {
  override readonly name = "InvalidReplyAddressError";
}

/**
 * Reads a reply target's `address` with the platform's schema for it.
 * @param label - names the address in the error, e.g. `slack relay address`.
 * @throws {InvalidReplyAddressError} naming the first missing or malformed field.
 */
export function readAddress<T>(
  schema: z.ZodType<T>,
  address: Record<string, string>,
  label: string,
): T {
  const parsed = schema.safeParse(address);
  if (!parsed.success) {
    throw new InvalidReplyAddressError(`${label}: ${describeIssue(parsed.error, "address")}`);
  }
  return parsed.data;
}
