import { setTimeout as sleep } from "node:timers/promises";
import { type Client, ConnectError } from "@connectrpc/connect";
import type { OrderService } from "../../gen/order/v1/order_pb.js";

/** A WatchOrders stream that has said "started", read in the background. */
export interface OpenWatch {
  /** Changes received so far. */
  readonly changes: number;
  /** Resolves with the error that ended the stream, or undefined if it ended without one. */
  readonly ended: Promise<ConnectError | undefined>;
  /** Resolves once `count` more changes than now have arrived. */
  moreChanges(count: number, timeoutMs?: number): Promise<void>;
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
  const ended = (async () => {
    try {
      for (let next = await messages.next(); !next.done; next = await messages.next()) if (next.value.order) changes++;
      return undefined;
    } catch (error) {
      return ConnectError.from(error);
    }
  })();
  return {
    get changes() {
      return changes;
    },
    ended,
    async moreChanges(count, timeoutMs = 30_000) {
      const target = changes + count;
      for (const deadline = Date.now() + timeoutMs; changes < target; await sleep(20)) {
        if (Date.now() > deadline) throw new Error(`the watch saw fewer than ${count} more changes within ${timeoutMs} ms`);
      }
    },
    close: () => abort.abort(),
  };
}
