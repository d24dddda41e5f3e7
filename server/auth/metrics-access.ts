import { bearerToken } from "./bearer.js";
import { scopeMissing, tokenMissing } from "./errors.js";
import type { TokenVerifier } from "./verifier.js";

/** The scope a token needs to read /metrics on the API's port. */
export const metricsScope = "metrics:read" as const;

/**
 * Who may read /metrics beside the API: the metrics say how many requests
 * were refused and why, who is watching, how much memory is used and which
 * Node runs, which is for operators, not for every caller. A bearer token
 * with the scope "metrics:read", checked by the API's own verifier; throws
 * the ConnectError (401 or 403, with its WWW-Authenticate challenge) to
 * answer otherwise.
 */
export function metricsReader(verifier: TokenVerifier): (headers: Headers) => Promise<void> {
  return async (headers) => {
    const token = bearerToken(headers);
    if (token === undefined) {
      throw tokenMissing(`/metrics needs a bearer token with the scope "${metricsScope}": send "authorization: Bearer <token>"`);
    }
    const principal = await verifier.verify(token);
    if (!principal.scopes.has(metricsScope)) {
      throw scopeMissing(`/metrics needs the scope "${metricsScope}"`, metricsScope);
    }
  };
}
