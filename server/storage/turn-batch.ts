/**
 * Work that arrives in the same turn of the event loop, done by one call of
 * `run` for all of it. A loaded server starts many calls per turn, from
 * every connection's request frames at once, and a statement's cost is
 * mostly what surrounds it: on PostgreSQL the round trip (a socket write
 * and read on each side, the driver's and the pool's work) and the
 * statement's parsing, planning and commit; on SQLite Kysely's, the
 * observers' and the driver's work. One statement for the whole turn costs
 * that once.
 *
 * The batch runs once the turn's I/O callbacks and their promise jobs have
 * run (setImmediate), so a lone item waits for nothing but that. It runs in
 * the asynchronous context of the item that opened it: with tracing, its
 * query span is that call's child.
 */
export class TurnBatches<Item, Result> {
  #open: Pending<Item, Result>[] | undefined;

  /**
   * `run` answers for the items it is given, result `i` for item `i` (a
   * promise settles that item alone); at most `limit` items go into one run.
   */
  constructor(
    private readonly run: (items: readonly Item[]) => Promise<ReadonlyArray<Result | PromiseLike<Result>>>,
    private readonly limit: number,
  ) {}

  add(item: Item): Promise<Result> {
    let batch = this.#open;
    if (batch === undefined) {
      const opened: Pending<Item, Result>[] = [];
      batch = opened;
      this.#open = opened;
      setImmediate(() => this.#run(opened));
    }
    const pending = batch;
    const result = new Promise<Result>((resolve, reject) => {
      pending.push({ item, resolve, reject });
    });
    // A full batch runs as it is; the next item opens another.
    if (pending.length >= this.limit) this.#open = undefined;
    return result;
  }

  async #run(batch: Pending<Item, Result>[]): Promise<void> {
    if (this.#open === batch) this.#open = undefined;
    try {
      const results = await this.run(batch.map(({ item }) => item));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} items was given ${results.length} results`);
      for (const [index, { resolve }] of batch.entries()) resolve(results[index] as Result | PromiseLike<Result>);
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }
}

interface Pending<Item, Result> {
  readonly item: Item;
  resolve(result: Result | PromiseLike<Result>): void;
  reject(reason: unknown): void;
}
