import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor, type StreamRequest, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { principalKey } from "../auth/principal.js";
import { requestInfoKey } from "../pipeline/request-info.js";
import { callerKey } from "../rate-limit/caller.js";
import { exhausted } from "../rate-limit/exhausted.js";
import { type Release, type StreamBudget, streamRetryMs } from "../rate-limit/stream-budget.js";
import { clientAddressKey } from "./client-address.js";

/**
 * Methods that never end by themselves: they are ended after MAX_WATCH_MS
 * (±10%) so that no stream outlives its token, its replica's rebalancing or
 * its caller's memory budget by hours.
 */
const watches = new Set(["grpc.health.v1.Health/Watch", "order.v1.OrderService/WatchOrders"]);

/**
 * Every streaming call (client, server, bidi) holds a slot of its caller's
 * and its connection's stream budget from the moment it starts until it
 * ends, however it ends (its last message, an error, the client cancelling
 * or the connection dropping): a call over a cap gets RESOURCE_EXHAUSTED
 * before its handler runs. The caller is the one the rate limits count
 * (principal, else address), so it runs after authentication. Client and
 * bidi streams also carry at most MAX_STREAM_MESSAGES messages; watches
 * live at most MAX_WATCH_MS. It runs on connect-node's path and the fast
 * path alike: both pass every call through the same interceptors.
 */
export function streamBudgetInterceptor(budget: StreamBudget): Interceptor {
  const { maxMessages, maxWatchMs } = budget.limits;
  // Unary calls pass straight through: no async frame of their own.
  return (next) => (req) => (req.stream ? limited(next, req) : next(req));
  async function limited(next: Parameters<Interceptor>[0], req: StreamRequest): Promise<UnaryResponse | StreamResponse> {
    const info = req.contextValues.get(requestInfoKey);
    const caller = callerKey(req.contextValues.get(principalKey), req.contextValues.get(clientAddressKey) ?? info.remoteAddress);
    const taken = budget.take(caller, info.connection);
    if (taken instanceof ConnectError) throw taken;
    const lifetime = watches.has(`${req.service.typeName}/${req.method.name}`) ? new Lifetime(maxWatchMs) : undefined;
    // The signal also ends when the connection drops before any message is
    // read: the slot must not wait for an iteration that never comes. Every
    // step is idempotent, so whichever end comes first gives the slot back.
    const onAbort = () => release();
    const release: Release = () => {
      req.signal.removeEventListener("abort", onAbort);
      lifetime?.clear();
      taken();
    };
    if (req.signal.aborted) release();
    else req.signal.addEventListener("abort", onAbort, { once: true });
    const sendsMany = req.method.methodKind === "client_streaming" || req.method.methodKind === "bidi_streaming";
    const bounded: StreamRequest = {
      ...req,
      signal: lifetime === undefined ? req.signal : AbortSignal.any([req.signal, lifetime.signal]),
      message: sendsMany ? capped(req.message, maxMessages) : req.message,
    };
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(bounded);
    } catch (error) {
      release();
      throw lifetime?.ended ?? error;
    }
    if (!res.stream) {
      release();
      return res;
    }
    return { ...res, message: untilEnd(res.message, release, lifetime) };
  }
}

/** The response's messages; the slot is given back when they end, and a watch past its lifetime ends with UNAVAILABLE. */
async function* untilEnd<T>(messages: AsyncIterable<T>, release: Release, lifetime: Lifetime | undefined): AsyncGenerator<T> {
  try {
    yield* messages;
    // A handler may take the aborted signal as a normal end: the client still learns why, and to reopen.
    if (lifetime?.ended !== undefined) throw lifetime.ended;
  } catch (error) {
    throw lifetime?.ended ?? error;
  } finally {
    release();
  }
}

/** The client's messages, refused past the `max`th. */
async function* capped<T>(messages: AsyncIterable<T>, max: number): AsyncGenerator<T> {
  let count = 0;
  for await (const message of messages) {
    if (++count > max) {
      throw exhausted(
        `too many messages in one stream: at most ${max} per call (MAX_STREAM_MESSAGES); send the rest in a new call`,
        streamRetryMs,
      );
    }
    yield message;
  }
}

/** A watch's lifetime, jittered ±10% so that watches opened together are not all reopened together. */
class Lifetime {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  ended: ConnectError | undefined;

  constructor(maxMs: number) {
    const ms = Math.round(maxMs * (0.9 + Math.random() * 0.2));
    this.#timer = setTimeout(() => {
      this.ended = new ConnectError(
        `this watch reached its longest lifetime (about ${Math.round(maxMs / 1000)} s, MAX_WATCH_MS); open it again (a WatchOrders client re-reads the orders once the new stream says "started")`,
        Code.Unavailable,
        undefined,
        [{ desc: RetryInfoSchema, value: { retryDelay: durationFromMs(0) } }],
      );
      this.#controller.abort(this.ended);
    }, ms);
    this.#timer.unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
