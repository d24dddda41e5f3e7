import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** gRPC's retry policy (A6, gRFC "retryPolicy"): which failures, how often, how long between. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly retryableCodes: readonly Code[];
}

export const standardRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  // A replica killed outright stays in nginx's rotation until its connections fail: the first
  // attempts may all land in that window, so they are spread over seconds, not a few hundred ms.
  initialBackoffMs: 400,
  maxBackoffMs: 2_000,
  backoffMultiplier: 2,
  retryableCodes: [Code.Unavailable],
};

/**
 * A stream that never left this process: Node's HTTP/2 client refuses
 * (REFUSED_STREAM) the requests still queued when the server's GOAWAY
 * arrives. gRPC clients retry those "transparently", whatever their policy
 * says; connect-node reports them as INTERNAL.
 */
function neverSent(failure: ConnectError): boolean {
  return failure.message.includes("NGHTTP2_REFUSED_STREAM");
}

/** What a retry interceptor did. */
export interface RetryStats {
  /** Attempts that failed with a retryable code and were tried again. */
  retried: number;
}

/**
 * Retries unary calls that fail with a retryable code, as a gRPC client with
 * a retry policy does: at most `maxAttempts` attempts, each after a random
 * pause of up to initial × multiplierⁿ⁻¹ (capped at maxBackoffMs). Streams
 * are not retried (their callers resume them). Only safe for calls that may
 * run twice: reads, and writes that carry an idempotency key.
 */
export function retryInterceptor(stats: RetryStats, policy: RetryPolicy = standardRetryPolicy): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    for (let attempt = 1; ; attempt++) {
      try {
        return await next({ ...req, header: new Headers(req.header) });
      } catch (error) {
        const failure = ConnectError.from(error);
        const retryable = policy.retryableCodes.includes(failure.code) || neverSent(failure);
        if (!retryable || attempt >= policy.maxAttempts || req.signal.aborted) throw failure;
        stats.retried++;
        const ceiling = Math.min(policy.initialBackoffMs * policy.backoffMultiplier ** (attempt - 1), policy.maxBackoffMs);
        await sleep(Math.random() * ceiling);
      }
    }
  };
}
