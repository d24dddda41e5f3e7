import { TurnBatches } from "./turn-batch.js";

/**
 * Lookups by key that start in the same turn of the event loop, answered by
 * one read of all their keys, each key once however many ask for it (see
 * turn-batch.ts for when the read runs and why).
 */
export class LookupBatches<V> {
  readonly #batches: TurnBatches<string, V | undefined>;

  /**
   * `read` answers for the keys it is given: those missing from its map
   * have no value. At most `limit` lookups go into one read.
   */
  constructor(read: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>, limit: number) {
    this.#batches = new TurnBatches(async (keys) => {
      const found = await read([...new Set(keys)]);
      return keys.map((key) => found.get(key));
    }, limit);
  }

  get(key: string): Promise<V | undefined> {
    return this.#batches.add(key);
  }
}
