import { setTimeout as sleep } from "node:timers/promises";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { OrderService, WatchOrdersResponse } from "../../gen/order/v1/order_pb.js";

/** A WatchOrders stream that has said "started", read in the background. */
export interface OpenWatch {
  /** Changes received so far. */
  readonly changes: number;
  /** Times the server ended the stream asking for it to be reopened (MAX_WATCH_MS) and it was. */
  readonly reopened: number;
  /** Resolves with the error that ended the stream, or undefined if it ended without one. */
  readonly ended: Promise<ConnectError | undefined>;
  /**
   * Resolves once `count` more changes than now have arrived. Only for a
   * feed that keeps changing (background load): a change caused just before
   * the call may already be counted. For a change you caused, read `changes`
   * before causing it and wait with `changesReach`.
   */
  moreChanges(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `total` changes in all have arrived; rejects at once if the stream ends before. */
  changesReach(total: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * Opens WatchOrders; resolves once its first message ("started") arrives,
 * rejects if the stream fails first. When the server ends the stream asking
 * for it to be reopened (UNAVAILABLE with a RetryInfo detail: the watch's
 * longest lifetime, MAX_WATCH_MS), it is reopened after the delay the server
 * asks for, and counting goes on once the new stream says "started". A change
 * made between the two streams is not counted: WatchOrders has no resume
 * point, so a client that must see every change lists the orders again after
 * "started", as the web page does.
 */
export async function openWatch(orders: Client<typeof OrderService>): Promise<OpenWatch> {
  const abort = new AbortController();
  const open = async (): Promise<AsyncIterator<WatchOrdersResponse>> => {
    const messages = orders.watchOrders({}, { signal: abort.signal })[Symbol.asyncIterator]();
    const first = await messages.next();
    if (first.done || !first.value.started) {
      abort.abort();
      throw new Error(`the watch's first message was not "started": ${JSON.stringify(first.value)}`);
    }
    return messages;
  };
  let messages = await open();
  let changes = 0;
  let reopened = 0;
  let over: { error: ConnectError | undefined } | undefined;
  const ended = (async () => {
    for (;;) {
      try {
        for (let next = await messages.next(); !next.done; next = await messages.next()) if (next.value.order) changes++;
        return undefined;
      } catch (error) {
        const retryIn = reopenDelayMs(ConnectError.from(error));
        if (retryIn === undefined || abort.signal.aborted) return ConnectError.from(error);
        await sleep(retryIn);
        try {
          messages = await open();
        } catch (reopenError) {
          return ConnectError.from(reopenError);
        }
        reopened++;
      }
    }
  })().then((error) => {
    over = { error };
    return error;
  });
  async function changesReach(total: number, timeoutMs = 30_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; changes < total; await sleep(20)) {
      // A stream that ended will never see more: say how it ended rather than wait out the timeout.
      if (over !== undefined)
        throw new Error(`the watch ended after ${changes} changes, before ${total}: ${over.error?.message ?? "no error"}`);
      if (Date.now() > deadline) throw new Error(`the watch saw ${changes} changes, not ${total}, within ${timeoutMs} ms`);
    }
  }
  return {
    get changes() {
      return changes;
    },
    get reopened() {
      return reopened;
    },
    ended,
    moreChanges(count, timeoutMs) {
      return changesReach(changes + count, timeoutMs);
    },
    changesReach,
    close: () => abort.abort(),
  };
}

/** How long the server asks a client to wait before reopening a watch it ended on purpose; undefined for any other end. */
function reopenDelayMs(error: ConnectError): number | undefined {
  if (error.code !== Code.Unavailable) return undefined;
  const [retry] = error.findDetails(RetryInfoSchema);
  if (retry === undefined) return undefined;
  return Math.min(30_000, retry.retryDelay === undefined ? 0 : durationMs(retry.retryDelay));
}
