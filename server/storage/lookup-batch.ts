/**
 * Lookups by key that start in the same turn of the event loop, answered by
 * one read of all their keys (each key once, however many ask for it). A
 * loaded server starts many calls per turn, from every connection's
 * request frames at once. A query's cost is mostly what surrounds it: on
 * PostgreSQL the round trip (a socket write and read on each side, the
 * driver's and the pool's work), on SQLite Kysely's, the observers' and the
 * driver's work per query. One query for the whole turn costs that once.
 *
 * The read starts once the turn's I/O callbacks and their promise jobs have
 * run (setImmediate), so a lone lookup waits for nothing but that. It runs
 * in the asynchronous context of the lookup that opened the batch: with
 * tracing, its query span is that call's child.
 */
export class LookupBatches<V> {
  #open: Map<string, Waiter<V>[]> | undefined;

  /**
   * `read` answers for the keys it is given: those missing from its map
   * have no value. At most `limit` keys go into one read.
   */
  constructor(
    private readonly read: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>,
    private readonly limit: number,
  ) {}

  get(key: string): Promise<V | undefined> {
    let batch = this.#open;
    if (batch === undefined) {
      const opened = new Map<string, Waiter<V>[]>();
      batch = opened;
      this.#open = opened;
      setImmediate(() => this.#run(opened));
    }
    const waiters = batch.get(key);
    const answer = new Promise<V | undefined>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (waiters === undefined) batch.set(key, [waiter]);
      else waiters.push(waiter);
    });
    // A full batch is read as it is; the next lookup opens another.
    if (batch.size >= this.limit) this.#open = undefined;
    return answer;
  }

  async #run(batch: Map<string, Waiter<V>[]>): Promise<void> {
    if (this.#open === batch) this.#open = undefined;
    try {
      const found = await this.read([...batch.keys()]);
      for (const [key, waiters] of batch) {
        const value = found.get(key);
        for (const waiter of waiters) waiter.resolve(value);
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }
}

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(reason: unknown): void;
}
