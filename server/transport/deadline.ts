import type { RequestHandler } from "./http-handler.js";

type Request = Parameters<RequestHandler>[0];

/** Longest delay setTimeout takes; a longer one fires after 1 ms with a TimeoutOverflowWarning on stderr. */
const longestTimerMs = 2 ** 31 - 1;

/** The deadline headers and their grammar, exactly as connect-es parses them. */
const grpcTimeout = /^(\d{1,8})([HMSmun])$/;
const connectTimeout = /^\d{1,10}$/;
const grpcUnitMs: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * connect-es refuses a deadline over MAX_TIMEOUT_MS with INVALID_ARGUMENT,
 * but only after it has armed a timer for it. A deadline over 24.8 days
 * (`grpc-timeout: 99999999H`, `connect-timeout-ms: 9999999999`) overflows
 * that timer: Node prints a TimeoutOverflowWarning to stderr and fires it
 * after 1 ms, which can turn the answer into DEADLINE_EXCEEDED.
 *
 * Such a header is rewritten here into a value connect-es cannot parse, which
 * it refuses with INVALID_ARGUMENT without arming any timer; the new value
 * says what was wrong, and the answer keeps each protocol's usual form (and
 * passes the interceptors: call log, request id, CORS). Deadlines a timer can
 * hold are left to connect-es's own MAX_TIMEOUT_MS check. Returns the header
 * it rewrote, if any, for the log.
 */
export function disarmOverlongDeadline(req: Request, maxTimeoutMs: number): string | undefined {
  const grpc = req.headers["grpc-timeout"];
  if (typeof grpc === "string") {
    const match = grpcTimeout.exec(grpc);
    if (match?.[1] !== undefined && match[2] !== undefined && Number(match[1]) * (grpcUnitMs[match[2]] ?? 0) > longestTimerMs) {
      req.headers["grpc-timeout"] = tooLong(grpc, maxTimeoutMs);
      return `grpc-timeout: ${grpc}`;
    }
  }
  const connect = req.headers["connect-timeout-ms"];
  if (typeof connect === "string" && connectTimeout.test(connect) && Number(connect) > longestTimerMs) {
    req.headers["connect-timeout-ms"] = tooLong(connect, maxTimeoutMs);
    return `connect-timeout-ms: ${connect}`;
  }
  return undefined;
}

/** connect-es quotes it after "protocol error: invalid grpc timeout value: ". */
function tooLong(value: string, maxTimeoutMs: number): string {
  return `${value} is longer than the longest deadline this server allows, ${maxTimeoutMs} ms`;
}
