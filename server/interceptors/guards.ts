import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { TokenVerifier } from "../auth/verifier.js";
import type { AuthConfig } from "../config.js";
import type { Logger } from "../logger.js";
import type { ServerMetrics } from "../observability/metrics.js";
import { policyOf } from "../policy/methods.js";
import { AuthFailureBudget } from "../rate-limit/auth-failures.js";
import type { RateLimiters } from "../rate-limit/limiters.js";
import { authInterceptor } from "./auth.js";
import { countRejections } from "./metrics.js";
import { rateLimitInterceptor } from "./rate-limit.js";

/**
 * The interceptors that guard every call, in order: who is calling (and may
 * they), then how much they may call. Says at start how the server is
 * protected, and warns when it is not although it could be reached.
 */
export function guardInterceptors(
  auth: AuthConfig,
  verifier: TokenVerifier | undefined,
  limiters: RateLimiters,
  logger: Logger,
  metrics?: ServerMetrics,
): Interceptor[] {
  if (auth.mode === "off") {
    if (auth.explicit) logger.warn("authentication is off (AUTH_MODE=off): anyone who can reach the port can change data");
    else logger.info("authentication is off, which is allowed on loopback only: set AUTH_JWT_SECRET or AUTH_JWKS_URL to require tokens");
  } else {
    const { keys, issuer, audience, requireForReads, maxTokenTtlMs } = auth;
    logger.info(
      { keys: keys.kind === "secret" ? "AUTH_JWT_SECRET (HS256)" : keys.url, issuer, audience, requireForReads, maxTokenTtlMs },
      `bearer tokens required for ${requireForReads ? "every call" : "calls that change data"}`,
    );
  }
  const budget = (limiter: RateLimiters["writes"], what: string) =>
    limiter === undefined ? `no limit on ${what}` : `${limiter.points} ${what} per ${limiter.windowMs / 1000} s`;
  logger.info(`rate limits per caller: ${budget(limiters.writes, "changes")}, ${budget(limiters.reads, "other calls")}`);
  if (auth.mode === "jwt") logger.info(`rate limit per client address: ${budget(limiters.authFailures, "failed authentications")}`);
  const failures = limiters.authFailures === undefined ? undefined : new AuthFailureBudget(limiters.authFailures, logger);
  const authenticate = authInterceptor({ verifier, requireForReads: auth.mode === "jwt" && auth.requireForReads, failures });
  // Without budgets the rate limit would only look each call up to spend nothing.
  const rateLimit = limiters.writes !== undefined || limiters.reads !== undefined ? rateLimitInterceptor(limiters) : undefined;
  if (metrics === undefined) return rateLimit === undefined ? [authenticate] : [authenticate, rateLimit];
  const countedAuth = countRejections(authenticate, (error) => {
    if (error instanceof ConnectError && error.code === Code.ResourceExhausted) metrics.rateLimited("auth_failures");
    else metrics.authRejected(error);
  });
  if (rateLimit === undefined) return [countedAuth];
  return [
    countedAuth,
    countRejections(rateLimit, (error, req) => {
      // Not a store failure (the limiter's database unreachable): a spent budget.
      if (error instanceof ConnectError && error.code === Code.ResourceExhausted) {
        metrics.rateLimited(policyOf(req.method)?.budget ?? "reads");
      }
    }),
  ];
}
