import { Code, ConnectError } from "@connectrpc/connect";
import type { UploadLimits } from "../config.js";

/** What ends a call whose upload is refused or cut; its first reason wins. */
export interface UploadCall {
  readonly reason: ConnectError | undefined;
  abort(reason: ConnectError): void;
}

/**
 * One request body being read: the bytes it holds so far count against the
 * budget until it is closed. `stop` is set by the reader: the budget calls it
 * to make the reader give up at once (the call has ended: its upload took too
 * long, or its deadline passed, or the server is shutting down).
 */
export class Upload {
  held = 0;
  stop: (() => void) | undefined;

  constructor(
    readonly budget: UploadBudget,
    readonly connection: object | undefined,
    /** The client address the connection comes from (the peer's, not one a proxy reports). */
    readonly address: string | undefined,
    readonly call: UploadCall,
    /** When what is held began to arrive (performance.now()); Infinity while nothing is on its way. */
    public startedAt: number,
  ) {}

  /** True if `bytes` more may be held; false once the call has been refused for them (stop reading). */
  take(bytes: number): boolean {
    return this.budget.take(this, bytes);
  }

  /** `bytes` of what was taken are whole messages now, no longer arriving. */
  release(bytes: number): void {
    this.budget.release(this, bytes);
  }

  /** The body is read (or given up): its bytes no longer count. */
  close(): void {
    this.budget.close(this);
  }
}

/**
 * Bounds the request data held for bodies still arriving. A unary request is
 * read whole before it is decoded, so without a bound a client could start
 * many calls, send nearly all of each body and never finish: one client with
 * two HTTP/2 connections of 100 such calls grew the server from 99 to 889 MiB
 * and kept it there. The budget has a share per connection, per client
 * address (so that one client cannot take what others need) and a whole.
 * Past a budget the call that would exceed it ends at once
 * with RESOURCE_EXHAUSTED (its connection stays usable, the rest of its body
 * is read and thrown away, or the stream reset), and a body that has not
 * arrived within `timeoutMs` ends its call with DEADLINE_EXCEEDED, so held
 * memory is always given back. A call whose deadline passes, or that the
 * shutdown ends, while its body arrives stops reading within a second.
 */
export class UploadBudget {
  #total = 0;
  readonly #byConnection = new WeakMap<object, number>();
  /** Only addresses holding something: an entry goes when its count is back to zero. */
  readonly #byAddress = new Map<string, number>();
  readonly #open = new Set<Upload>();

  constructor(readonly limits: UploadLimits) {
    // One timer for every upload: a body's read costs no timer of its own.
    setInterval(() => this.#sweep(), Math.min(1000, limits.timeoutMs)).unref();
  }

  /** Held bytes now, in all (tests and metrics read it). */
  get heldBytes(): number {
    return this.#total;
  }

  open(connection: object | undefined, address: string | undefined, call: UploadCall): Upload {
    const upload = new Upload(this, connection, address, call, performance.now());
    this.#open.add(upload);
    return upload;
  }

  take(upload: Upload, bytes: number): boolean {
    const { totalBytes, perConnectionBytes, perAddressBytes } = this.limits;
    const onConnection = upload.connection === undefined ? upload.held : (this.#byConnection.get(upload.connection) ?? 0);
    const fromAddress = upload.address === undefined ? upload.held : (this.#byAddress.get(upload.address) ?? 0);
    if (onConnection + bytes > perConnectionBytes) {
      upload.call.abort(
        new ConnectError(
          `too much unfinished request data on this connection: at most ${mib(perConnectionBytes)} at once (UPLOAD_BUFFER_BYTES_PER_CONNECTION); finish the other uploads first, or send this call on another connection`,
          Code.ResourceExhausted,
        ),
      );
      return false;
    }
    if (fromAddress + bytes > perAddressBytes) {
      upload.call.abort(
        new ConnectError(
          `too much unfinished request data from this address: at most ${mib(perAddressBytes)} at once (UPLOAD_BUFFER_BYTES_PER_ADDRESS); finish the other uploads first`,
          Code.ResourceExhausted,
        ),
      );
      return false;
    }
    if (this.#total + bytes > totalBytes) {
      upload.call.abort(
        new ConnectError(
          `the server is holding as much unfinished request data as it may (${mib(totalBytes)}, UPLOAD_BUFFER_BYTES); retry shortly`,
          Code.ResourceExhausted,
        ),
      );
      return false;
    }
    upload.held += bytes;
    this.#total += bytes;
    if (upload.connection !== undefined) this.#byConnection.set(upload.connection, onConnection + bytes);
    if (upload.address !== undefined) this.#byAddress.set(upload.address, fromAddress + bytes);
    return true;
  }

  release(upload: Upload, bytes: number): void {
    this.#give(upload, Math.min(bytes, upload.held));
  }

  close(upload: Upload): void {
    if (!this.#open.delete(upload)) return;
    this.#give(upload, upload.held);
  }

  /** Gives `bytes` of what `upload` holds back to every count. */
  #give(upload: Upload, bytes: number): void {
    if (bytes <= 0) return;
    upload.held -= bytes;
    this.#total -= bytes;
    // A connection's entry stays (at zero) for its next call; it goes with the connection.
    if (upload.connection !== undefined) {
      this.#byConnection.set(upload.connection, (this.#byConnection.get(upload.connection) ?? 0) - bytes);
    }
    if (upload.address !== undefined) {
      const left = (this.#byAddress.get(upload.address) ?? 0) - bytes;
      if (left > 0) this.#byAddress.set(upload.address, left);
      else this.#byAddress.delete(upload.address);
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const upload of this.#open) {
      if (upload.call.reason === undefined && now - upload.startedAt >= this.limits.timeoutMs) {
        upload.call.abort(
          new ConnectError(
            `the request body did not arrive within ${seconds(this.limits.timeoutMs)} (UPLOAD_TIMEOUT_MS); send it faster, or a smaller one`,
            Code.DeadlineExceeded,
          ),
        );
      }
      if (upload.call.reason !== undefined) upload.stop?.();
    }
  }
}

function mib(bytes: number): string {
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
