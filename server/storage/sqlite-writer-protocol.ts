import type { SQLInputValue } from "node:sqlite";

/**
 * Messages between the main thread and the SQLite writer thread
 * (sqlite-writer-worker.ts). A transaction is numbered by the main thread;
 * its messages may arrive before its turn and wait for it. Each side sends
 * its messages in batches (arrays): every postMessage costs a wake-up of
 * the other thread, and on a busy server many calls write at once.
 */
export type WriterRequest =
  | { readonly op: "begin"; readonly tx: number }
  | { readonly op: "query"; readonly tx: number; readonly id: number; readonly sql: string; readonly params: SQLInputValue[] }
  /** One statement in a transaction of its own: begin, query and commit in one message. */
  | { readonly op: "write"; readonly tx: number; readonly id: number; readonly sql: string; readonly params: SQLInputValue[] }
  | { readonly op: "commit"; readonly tx: number }
  | { readonly op: "rollback"; readonly tx: number }
  /** Finish every transaction already sent, then close the connection and end the thread. */
  | { readonly op: "close" };

export type WriterReply =
  | { readonly op: "ready" }
  /** The connection could not be opened; the thread ends. */
  | { readonly op: "openFailed"; readonly error: WireError }
  | {
      readonly op: "result";
      readonly id: number;
      readonly rows: unknown[] | undefined;
      readonly changes: number | bigint;
      readonly lastInsertRowid: number | bigint;
    }
  | { readonly op: "failed"; readonly id: number; readonly error: WireError }
  /**
   * These transactions committed, in this order, with one COMMIT whose data
   * is on disk as `synchronous` promises; `notices[i]` are what the
   * statements of `txs[i]` sent with the SQL function notify(), in order.
   */
  | { readonly op: "committed"; readonly txs: number[]; readonly notices: Notification[][] }
  /** These transactions were lost with their group: nothing of theirs was kept. */
  | { readonly op: "commitFailed"; readonly txs: number[]; readonly error: WireError }
  | { readonly op: "rolledBack"; readonly tx: number };

/** A change sent on `channel` by a transaction, for listeners in this process once it commits. */
export interface Notification {
  readonly channel: string;
  readonly payload: string;
}

/** An error as it crosses threads: node:sqlite's own fields survive, which the failure classification reads. */
export interface WireError {
  readonly message: string;
  readonly code: unknown;
  readonly errcode: unknown;
  readonly errstr: unknown;
}

export interface WriterOptions {
  readonly file: string;
  readonly synchronous: "full" | "normal";
  readonly busyTimeoutMs: number;
}

export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { message: String(error), code: undefined, errcode: undefined, errstr: undefined };
  const { code, errcode, errstr } = error as { code?: unknown; errcode?: unknown; errstr?: unknown };
  return { message: error.message, code, errcode, errstr };
}

export function fromWire(wire: WireError): Error {
  return Object.assign(new Error(wire.message), { code: wire.code, errcode: wire.errcode, errstr: wire.errstr });
}
