import type { SQLInputValue } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { WriterGoneError } from "./failures.js";
import { fromWire, type Notification, type WriterOptions, type WriterReply, type WriterRequest } from "./sqlite-writer-protocol.js";

export interface WriteResult {
  readonly rows: unknown[] | undefined;
  readonly changes: number | bigint;
  readonly lastInsertRowid: number | bigint;
}

/** How long closing waits for the writes under way before it ends the thread. */
const closeGraceMs = 5_000;

/**
 * The main thread's end of the SQLite writer thread (sqlite-writer-worker.ts):
 * statements and transaction ends go there as messages, and their promises
 * settle when it answers. A commit settles once its group's COMMIT returned.
 * If the thread dies, everything waiting fails with WriterGoneError
 * (UNAVAILABLE for the call) and the next write starts a new thread.
 * Messages sent during one turn of the event loop go together, in one
 * postMessage, once the turn's I/O is handled: on a busy server that is
 * one wake-up of the thread for many calls' statements.
 */
export class SqliteWriter {
  private worker: Worker | undefined;
  /** The thread a transaction began on: a transaction cannot outlive its thread. */
  private readonly transactions = new Map<number, Worker>();
  private readonly queries = new Map<number, { resolve(result: WriteResult): void; reject(error: Error): void; worker: Worker }>();
  private readonly ends = new Map<number, { resolve(): void; reject(error: Error): void; worker: Worker }>();
  private nextId = 1;
  private closed = false;
  /** Requests not yet posted, all for `outboxWorker`. */
  private outbox: WriterRequest[] = [];
  private outboxWorker: Worker | undefined;
  /** COMMITs acknowledged so far, each for a group of one or more transactions. */
  groupCommits = 0;

  private constructor(
    private readonly options: WriterOptions,
    /**
     * Called with each committed transaction, in commit order, before its
     * commit's promise settles, with what its statements sent with notify().
     */
    private readonly onCommitted: (tx: number, notices: readonly Notification[]) => void,
  ) {}

  /** Starts the thread and waits until its connection is open, so a file that cannot be opened fails the start. */
  static async start(options: WriterOptions, onCommitted: (tx: number, notices: readonly Notification[]) => void): Promise<SqliteWriter> {
    const writer = new SqliteWriter(options, onCommitted);
    await writer.spawn();
    return writer;
  }

  /** Numbers a new transaction and sends its BEGIN; it runs when the writer gets to it. */
  begin(): number {
    const worker = this.current();
    const tx = this.nextId++;
    this.transactions.set(tx, worker);
    this.send(worker, { op: "begin", tx });
    return tx;
  }

  query(tx: number, sql: string, params: SQLInputValue[]): Promise<WriteResult> {
    const worker = this.transactions.get(tx);
    if (worker === undefined || worker !== this.worker) return Promise.reject(new WriterGoneError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.queries.set(id, { resolve, reject, worker });
      this.send(worker, { op: "query", tx, id, sql, params });
    });
  }

  commit(tx: number): Promise<void> {
    return this.end(tx, "commit");
  }

  rollback(tx: number): Promise<void> {
    return this.end(tx, "rollback");
  }

  /** One statement in a transaction of its own, sent as one message; it settles once committed. */
  write(sql: string, params: SQLInputValue[]): Promise<WriteResult> {
    const worker = this.current();
    const tx = this.nextId++;
    const id = this.nextId++;
    this.transactions.set(tx, worker);
    return new Promise<WriteResult>((resolve, reject) => {
      // The statement's outcome waits for its commit's: one promise, settled once both are known.
      let outcome: { result: WriteResult } | { error: Error } | undefined;
      this.queries.set(id, {
        resolve: (result) => (outcome = { result }),
        reject: (error) => (outcome = { error }),
        worker,
      });
      this.ends.set(tx, {
        resolve: () => {
          if (outcome === undefined) reject(new Error(`the writer committed transaction ${tx} without running its statement`));
          else if ("error" in outcome) reject(outcome.error);
          else resolve(outcome.result);
        },
        reject: (error) => reject(outcome !== undefined && "error" in outcome ? outcome.error : error),
        worker,
      });
      this.send(worker, { op: "write", tx, id, sql, params });
    });
  }

  /** Finishes the writes already sent, then ends the thread. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    this.send(worker, { op: "close" });
    this.flush();
    const timer = setTimeout(() => void worker.terminate(), closeGraceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Transactions sent to the writer and not yet committed or rolled back, for metrics. */
  get pending(): number {
    return this.transactions.size;
  }

  private end(tx: number, op: "commit" | "rollback"): Promise<void> {
    const worker = this.transactions.get(tx);
    if (worker === undefined) return op === "rollback" ? Promise.resolve() : Promise.reject(new WriterGoneError());
    if (worker !== this.worker) {
      this.transactions.delete(tx);
      return op === "rollback" ? Promise.resolve() : Promise.reject(new WriterGoneError());
    }
    return new Promise((resolve, reject) => {
      this.ends.set(tx, { resolve, reject, worker });
      this.send(worker, { op, tx });
    });
  }

  private send(worker: Worker, request: WriterRequest): void {
    if (this.outboxWorker !== worker) this.flush();
    this.outboxWorker = worker;
    this.outbox.push(request);
    if (this.outbox.length === 1) setImmediate(this.flushLater);
  }

  private readonly flushLater = (): void => this.flush();

  private flush(): void {
    const worker = this.outboxWorker;
    const requests = this.outbox;
    if (requests.length === 0 || worker === undefined) return;
    this.outbox = [];
    // A thread that died meanwhile has failed these requests' promises already.
    if (worker === this.worker) worker.postMessage(requests);
  }

  private current(): Worker {
    if (this.closed) throw new WriterGoneError("the database is closing");
    if (this.worker === undefined) void this.spawn().catch(() => {});
    return this.worker as Worker;
  }

  private spawn(): Promise<void> {
    const worker = new Worker(new URL("./sqlite-writer-worker.js", import.meta.url), { workerData: this.options });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on("message", (replies: WriterReply[]) => {
        for (const reply of replies) {
          if (reply.op === "ready") {
            ready = true;
            resolve();
          } else if (reply.op === "openFailed") reject(fromWire(reply.error));
          else this.settle(reply);
        }
      });
      // An uncaught error ends the thread; "exit" follows and fails what waits.
      worker.on("error", (error) => {
        if (!ready) reject(error);
      });
      worker.on("exit", () => {
        if (this.worker === worker) this.worker = undefined;
        if (!ready) reject(new WriterGoneError());
        this.failAll(worker);
      });
    });
  }

  private settle(reply: WriterReply): void {
    switch (reply.op) {
      case "result": {
        const waiter = this.queries.get(reply.id);
        this.queries.delete(reply.id);
        waiter?.resolve(reply);
        return;
      }
      case "failed": {
        const waiter = this.queries.get(reply.id);
        this.queries.delete(reply.id);
        waiter?.reject(fromWire(reply.error));
        return;
      }
      case "committed":
        this.groupCommits++;
        for (const [index, tx] of reply.txs.entries()) {
          this.transactions.delete(tx);
          this.onCommitted(tx, reply.notices[index] ?? []);
          const waiter = this.ends.get(tx);
          this.ends.delete(tx);
          waiter?.resolve();
        }
        return;
      case "commitFailed":
        for (const tx of reply.txs) {
          this.transactions.delete(tx);
          const waiter = this.ends.get(tx);
          this.ends.delete(tx);
          waiter?.reject(fromWire(reply.error));
        }
        return;
      case "rolledBack": {
        this.transactions.delete(reply.tx);
        const waiter = this.ends.get(reply.tx);
        this.ends.delete(reply.tx);
        waiter?.resolve();
        return;
      }
      default:
        return;
    }
  }

  private failAll(worker: Worker): void {
    for (const [id, waiter] of this.queries) {
      if (waiter.worker !== worker) continue;
      this.queries.delete(id);
      waiter.reject(new WriterGoneError());
    }
    for (const [tx, waiter] of this.ends) {
      if (waiter.worker !== worker) continue;
      this.ends.delete(tx);
      this.transactions.delete(tx);
      waiter.reject(new WriterGoneError());
    }
  }
}
