import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { Budget, Limiter } from "./limiters.js";

/**
 * RESOURCE_EXHAUSTED (HTTP 429 on Connect) for a caller over its budget. The
 * google.rpc.RetryInfo detail says when the window ends, for clients that
 * back off by it; Retry-After says the same to plain HTTP clients.
 */
export function budgetSpent(kind: Budget["name"], limiter: Limiter, retryInMs: number): ConnectError {
  const retrySeconds = Math.max(1, Math.ceil(retryInMs / 1000));
  const what = { writes: "calls that change data", reads: "calls", authFailures: "failed authentications from this address" }[kind];
  return exhausted(`too many ${what}: at most ${limiter.points} per ${limiter.windowMs / 1000} s; retry in ${retrySeconds} s`, retryInMs);
}

/** RESOURCE_EXHAUSTED saying `message`, with RetryInfo and Retry-After (whole seconds, at least 1) for `retryInMs`. */
export function exhausted(message: string, retryInMs: number): ConnectError {
  return new ConnectError(message, Code.ResourceExhausted, { "retry-after": String(Math.max(1, Math.ceil(retryInMs / 1000))) }, [
    { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(Math.max(0, retryInMs)) } },
  ]);
}
