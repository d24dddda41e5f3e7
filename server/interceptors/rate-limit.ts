import type { Interceptor } from "@connectrpc/connect";
import { RateLimiterRes } from "rate-limiter-flexible";
import { principalKey } from "../auth/principal.js";
import { requestInfoKey } from "../pipeline/request-info.js";
import { policyOf } from "../policy/methods.js";
import { callerKey } from "../rate-limit/caller.js";
import { budgetSpent } from "../rate-limit/exhausted.js";
import type { RateLimiters } from "../rate-limit/limiters.js";
import { clientAddressKey } from "./client-address.js";

/**
 * Every call spends one point of its caller's budget: the writes budget for
 * methods that change data, the reads budget for the others (health checks
 * are free: load balancers must always get an answer). The caller is the
 * verified principal, so it runs after the auth interceptor; anonymous
 * callers are counted by address. A call over budget gets RESOURCE_EXHAUSTED
 * before its handler runs.
 */
export function rateLimitInterceptor(limiters: RateLimiters): Interceptor {
  return (next) => async (req) => {
    const budget = policyOf(req.method)?.budget;
    const limiter = budget === undefined ? undefined : limiters[budget];
    if (budget !== undefined && limiter !== undefined) {
      const key = callerKey(
        req.contextValues.get(principalKey),
        req.contextValues.get(clientAddressKey) ?? req.contextValues.get(requestInfoKey).remoteAddress,
      );
      try {
        await limiter.consume(key);
      } catch (outcome) {
        // The library rejects with a RateLimiterRes when the budget is spent, with an Error when its store fails.
        if (outcome instanceof RateLimiterRes) throw budgetSpent(budget, limiter, outcome.msBeforeNext);
        throw outcome;
      }
    }
    return next(req);
  };
}
