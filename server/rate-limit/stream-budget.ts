import type { ConnectError } from "@connectrpc/connect";
import type { StreamLimitsConfig } from "../config.js";
import { exhausted } from "./exhausted.js";

/** How soon a refused client may try again: a slot frees as soon as one of its streams ends. */
export const streamRetryMs = 1_000;

/** Gives a taken slot back; calling it again does nothing. */
export type Release = () => void;

/**
 * The streaming calls open in this process, per caller and per connection.
 * A slot is taken when a call starts and given back when it ends; counters
 * at zero are deleted, so memory follows the streams open, not the callers
 * ever seen. Each replica counts its own streams: the caps are per process.
 */
export class StreamBudget {
  readonly #callers = new Map<string, number>();
  readonly #connections = new Map<object, number>();
  #open = 0;

  constructor(readonly limits: StreamLimitsConfig) {}

  /** Streaming calls open now, every caller together. */
  get open(): number {
    return this.#open;
  }

  /** Streams `caller` (a rate-limit caller key) has open now. */
  openBy(caller: string): number {
    return this.#callers.get(caller) ?? 0;
  }

  /**
   * Takes a slot for `caller` on `connection` (undefined when the transport
   * does not say: only the caller counts then), or returns the error a
   * client over a cap gets.
   */
  take(caller: string, connection: object | undefined): Release | ConnectError {
    const { perCaller, perConnection } = this.limits;
    const byCaller = this.#callers.get(caller) ?? 0;
    if (byCaller >= perCaller) {
      return exhausted(
        `too many streams open: at most ${perCaller} streaming calls at once per caller; close one (or wait for one to end) and retry`,
        streamRetryMs,
      );
    }
    const byConnection = connection === undefined ? 0 : (this.#connections.get(connection) ?? 0);
    if (connection !== undefined && byConnection >= perConnection) {
      return exhausted(
        `too many streams open on this connection: at most ${perConnection} streaming calls at once per connection; close one or open another connection`,
        streamRetryMs,
      );
    }
    this.#callers.set(caller, byCaller + 1);
    if (connection !== undefined) this.#connections.set(connection, byConnection + 1);
    this.#open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open--;
      decrement(this.#callers, caller);
      if (connection !== undefined) decrement(this.#connections, connection);
    };
  }
}

function decrement<K>(counts: Map<K, number>, key: K): void {
  const count = (counts.get(key) ?? 1) - 1;
  if (count <= 0) counts.delete(key);
  else counts.set(key, count);
}
