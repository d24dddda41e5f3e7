import { tokenMissing } from "./errors.js";

/**
 * The token of an `authorization: Bearer <token>` header (gRPC metadata is
 * the same header), or undefined when there is none. The scheme is
 * case-insensitive (RFC 9110 §11.1); a header with another scheme, or a
 * second value joined in, is refused rather than ignored, so a client that
 * meant to authenticate learns it did not. A second Authorization header
 * never gets here: Node keeps only the first, so the listener refuses such
 * requests first (server/transport/authorization-fields.ts).
 */
export function bearerToken(header: Headers): string | undefined {
  const value = header.get("authorization");
  if (value === null) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value);
  if (match?.[1] === undefined) throw tokenMissing('the authorization header must be "Bearer <token>"');
  return match[1];
}
