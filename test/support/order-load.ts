import { setTimeout as sleep } from "node:timers/promises";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { OrderService } from "../../gen/order/v1/order_pb.js";

/** What a client is told when the database is away (server/storage/failures.ts). */
export const databaseUnavailable = "the database cannot be reached right now; try again shortly";

/** Longest a single call may take before the load counts it as hanging. */
const callTimeoutMs = 60_000;

/**
 * Clients creating orders as fast as the server lets them, each order with
 * its own idempotency key. A call that fails with the database's UNAVAILABLE
 * is retried with the same key after a short pause, as a well-behaved client
 * would; any other outcome is recorded as unexpected.
 */
export interface OrderLoad {
  /** Idempotency key → id of the order the server acknowledged for it. */
  readonly acknowledged: ReadonlyMap<string, string>;
  /** Calls that failed with the database's UNAVAILABLE. */
  readonly unavailable: number;
  /** Every other failure, described: must stay empty. */
  readonly unexpected: readonly string[];
  /** Resolves once `count` more creates than now have been acknowledged. */
  moreAcknowledged(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` more calls than now have failed with UNAVAILABLE. */
  moreUnavailable(count: number, timeoutMs?: number): Promise<void>;
  /** Lets each client finish its current call, then resolves. */
  stop(): Promise<void>;
}

export function startOrderLoad(orders: Client<typeof OrderService>, clients: number, label = "load"): OrderLoad {
  const acknowledged = new Map<string, string>();
  const unexpected: string[] = [];
  let unavailable = 0;
  let stopping = false;

  const run = async (client: number) => {
    for (let n = 0; !stopping; n++) {
      const key = `${label}-${client}-${n}`;
      for (;;) {
        try {
          const { order } = await orders.createOrder({ name: `Order ${key}`, idempotencyKey: key }, { timeoutMs: callTimeoutMs });
          if (order === undefined) unexpected.push(`${key}: an answer without an order`);
          else acknowledged.set(key, order.id);
          break;
        } catch (error) {
          const failure = ConnectError.from(error);
          if (failure.code !== Code.Unavailable || failure.rawMessage !== databaseUnavailable) {
            unexpected.push(`${key}: ${Code[failure.code]} ${failure.rawMessage}`);
            break;
          }
          unavailable++;
          if (stopping) return;
          await sleep(50);
        }
      }
    }
  };
  const running = Promise.all(Array.from({ length: clients }, (_, client) => run(client)));

  const until = async (what: string, done: () => boolean, timeoutMs: number) => {
    for (const deadline = Date.now() + timeoutMs; !done(); await sleep(20)) {
      if (Date.now() > deadline) {
        throw new Error(
          `${what} within ${timeoutMs} ms (acknowledged ${acknowledged.size}, unavailable ${unavailable}, unexpected ${unexpected.length})`,
        );
      }
    }
  };

  return {
    acknowledged,
    get unavailable() {
      return unavailable;
    },
    unexpected,
    moreAcknowledged(count, timeoutMs = 60_000) {
      const target = acknowledged.size + count;
      return until(`fewer than ${count} more orders were acknowledged`, () => acknowledged.size >= target, timeoutMs);
    },
    moreUnavailable(count, timeoutMs = 60_000) {
      const target = unavailable + count;
      return until(`fewer than ${count} more calls failed with UNAVAILABLE`, () => unavailable >= target, timeoutMs);
    },
    async stop() {
      stopping = true;
      await running;
    },
  };
}
