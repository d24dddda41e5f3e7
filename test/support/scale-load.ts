import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";

/** Unary calls in a loop over one transport each, and WatchOrders streams that reconnect when they end. */
export interface ScaleLoad {
  /** Unary calls that succeeded (after retries, if any). */
  readonly succeeded: number;
  /** Idempotency key → id of each order whose creation was acknowledged. */
  readonly acknowledged: ReadonlyMap<string, string>;
  /** Unary calls that failed for good (after the transport's retries): must stay empty. */
  readonly failed: readonly string[];
  /** How watch streams ended other than with UNAVAILABLE (a replica killed mid-stream may cut one otherwise). */
  readonly watchErrors: readonly string[];
  /** Per watcher: how many streams it opened (1 + reconnections). */
  readonly watchSessions: readonly number[];
  /** Per watcher: order ids seen on the stream open now. */
  readonly watchSeen: ReadonlyArray<ReadonlySet<string>>;
  /** Resolves once `count` more unary calls than now have succeeded. */
  moreSucceeded(count: number, timeoutMs?: number): Promise<void>;
  /** Ends the callers (each finishes its call) and the watchers. */
  stop(): Promise<void>;
}

/**
 * For each transport, one caller that creates orders (with an idempotency
 * key, so a retried create is safe), reads them back, and adds numbers;
 * for each watch transport, one watcher that reopens WatchOrders whenever
 * the stream ends (a replica shutting down ends it with UNAVAILABLE).
 */
export function startScaleLoad(transports: readonly Transport[], watchTransports: readonly Transport[], pauseMs = 5): ScaleLoad {
  let running = true;
  let succeeded = 0;
  const acknowledged = new Map<string, string>();
  const failed: string[] = [];
  const run = `${Date.now().toString(36)}`;
  const callers = transports.map(async (transport, client) => {
    const orders = createClient(OrderService, transport);
    const calculator = createClient(CalculatorService, transport);
    for (let index = 0; running; index++) {
      try {
        if (index % 3 === 0) {
          const idempotencyKey = `${run}-${client}-${index}`;
          const order = (await orders.createOrder({ name: `load ${client}/${index}`, idempotencyKey })).order;
          if (order === undefined) throw new Error("CreateOrder answered without an order");
          acknowledged.set(idempotencyKey, order.id);
        } else if (index % 3 === 1) {
          const ids = [...acknowledged.values()];
          const id = ids[Math.floor(Math.random() * ids.length)];
          if (id !== undefined && (await orders.getOrder({ id })).order?.id !== id)
            throw new Error(`GetOrder(${id}) answered another order`);
        } else {
          const { result } = await calculator.add({ a: index, b: 1 });
          if (result !== index + 1) throw new Error(`Add(${index}, 1) = ${result}`);
        }
        succeeded++;
      } catch (error) {
        failed.push(`client ${client}, call ${index}: ${ConnectError.from(error).message}`);
      }
      await sleep(pauseMs);
    }
  });

  const stopWatching = new AbortController();
  const watchErrors: string[] = [];
  const watchSessions = watchTransports.map(() => 0);
  const watchSeen = watchTransports.map(() => new Set<string>());
  const watchers = watchTransports.map(async (transport, watcher) => {
    const orders = createClient(OrderService, transport);
    while (!stopWatching.signal.aborted) {
      watchSessions[watcher] = (watchSessions[watcher] ?? 0) + 1;
      const seen = new Set<string>();
      watchSeen[watcher] = seen;
      try {
        for await (const change of orders.watchOrders({}, { signal: stopWatching.signal })) {
          if (change.order !== undefined) seen.add(change.order.id);
        }
      } catch (error) {
        const failure = ConnectError.from(error);
        if (!stopWatching.signal.aborted && failure.code !== Code.Unavailable) {
          watchErrors.push(`watcher ${watcher}: ${failure.message}`);
        }
      }
      // Reconnect after a pause, as a client's backoff would.
      await sleep(100);
    }
  });

  return {
    get succeeded() {
      return succeeded;
    },
    acknowledged,
    failed,
    watchErrors,
    watchSessions,
    watchSeen,
    async moreSucceeded(count, timeoutMs = 30_000) {
      const target = succeeded + count;
      for (let waited = 0; succeeded < target; waited += 20) {
        if (waited > timeoutMs) throw new Error(`only ${succeeded - target + count} of ${count} calls succeeded in ${timeoutMs} ms`);
        await sleep(20);
      }
    },
    async stop() {
      running = false;
      await Promise.all(callers);
      stopWatching.abort();
      await Promise.all(watchers);
    },
  };
}
