/**
 * A first-in first-out buffer between a producer that cannot wait (database
 * notifications) and one slow consumer (a client's stream). It never holds
 * more than `limit` items: one more ends the buffer with the error
 * `overflow` makes, so a stalled client costs bounded memory.
 */
export class ChangeBuffer<T> {
  private items: T[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly limit: number,
    private readonly overflow: () => Error,
  ) {}

  push(item: T): void {
    if (this.failure !== undefined) return;
    if (this.items.length >= this.limit) {
      this.end(this.overflow());
      return;
    }
    this.items.push(item);
    this.notify();
  }

  /** Ends the buffer: what is still queued is dropped and the reader gets `error`. */
  end(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.items = [];
    this.notify();
  }

  /** Items waiting to be read. */
  get size(): number {
    return this.items.length;
  }

  get ended(): boolean {
    return this.failure !== undefined;
  }

  /** Yields items as they come until the buffer ends (it then throws its error) or `signal` aborts. */
  async *read(signal: AbortSignal): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      await this.nextPush(signal);
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private nextPush(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }
}
