import { Code, ConnectError } from "@connectrpc/connect";
import type { Scope } from "../policy/methods.js";

/*
 * The statuses authentication and authorization answer with, as ConnectErrors
 * the error mapping passes through unchanged: Connect turns UNAUTHENTICATED
 * into HTTP 401 and PERMISSION_DENIED into 403, gRPC and gRPC-Web send the
 * codes as they are. The WWW-Authenticate challenge (RFC 6750 §3) goes in the
 * error's metadata: an HTTP header on Connect, a trailer on gRPC.
 */

/** No token, or a header that does not carry one: the client is told how to authenticate. */
export function tokenMissing(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated, { "www-authenticate": "Bearer" });
}

/** A token that cannot be accepted: expired, badly signed, for another issuer or audience, malformed. */
export function tokenRejected(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated, { "www-authenticate": 'Bearer error="invalid_token"' });
}

/** A valid token that lacks the scope the method (or /metrics, "metrics:read") needs. */
export function scopeMissing(message: string, scope: Scope | "metrics:read"): ConnectError {
  return new ConnectError(message, Code.PermissionDenied, {
    "www-authenticate": `Bearer error="insufficient_scope", scope="${scope}"`,
  });
}

/** The server cannot check tokens right now (the identity provider's key set is unreachable): retrying later may work. */
export function verificationUnavailable(): ConnectError {
  return new ConnectError(
    "bearer tokens cannot be checked right now (the identity provider's keys are unreachable); try again shortly",
    Code.Unavailable,
  );
}
