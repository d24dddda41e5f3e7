import { setTimeout as sleep } from "node:timers/promises";
import { type Client, ConnectError } from "@connectrpc/connect";
import type { OrderService } from "../../gen/order/v1/order_pb.js";

/** A WatchOrders stream that has said "started", read in the background. */
export interface OpenWatch {
  /** Changes received so far. */
  readonly changes: number;
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

/** Opens WatchOrders; resolves once its first message ("started") arrives, rejects if the stream fails first. */
export async function openWatch(orders: Client<typeof OrderService>): Promise<OpenWatch> {
  const abort = new AbortController();
  const messages = orders.watchOrders({}, { signal: abort.signal })[Symbol.asyncIterator]();
  const first = await messages.next();
  if (first.done || !first.value.started) {
    abort.abort();
    throw new Error(`the watch's first message was not "started": ${JSON.stringify(first.value)}`);
  }
  let changes = 0;
  let over: { error: ConnectError | undefined } | undefined;
  const ended = (async () => {
    try {
      for (let next = await messages.next(); !next.done; next = await messages.next()) if (next.value.order) changes++;
      return undefined;
    } catch (error) {
      return ConnectError.from(error);
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
    ended,
    moreChanges(count, timeoutMs) {
      return changesReach(changes + count, timeoutMs);
    },
    changesReach,
    close: () => abort.abort(),
  };
}
