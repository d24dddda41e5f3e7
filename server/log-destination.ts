import { writeSync } from "node:fs";

/** Where a batch goes at once, without waiting for the end of the event loop turn. */
const maxBatchBytes = 64 * 1024;
/** pino's JSON lines begin with the level: error (50) and fatal (60) are written at once. */
const urgent = /^\{"level":[56]\d[,}]/;

/**
 * The JSON log destination for a file descriptor (stdout): the lines logged
 * during one turn of the event loop are written together, with one
 * synchronous write(2) when the turn ends (setImmediate), instead of one
 * write per line: under load that is one write for dozens of call log lines.
 * Nothing is ever in flight in another thread, so nothing can be lost or
 * reordered: `flushSync` writes what is pending, and runs when the process
 * exits (process.exit, the end of a graceful shutdown, an uncaught
 * exception: Node emits 'exit' for each). Errors and fatal lines are written
 * at once, before Node prints a crash's stack to stderr.
 */
export class BatchedLogDestination {
  #pending: string[] = [];
  #bytes = 0;
  #scheduled = false;
  /** The reader went away (EPIPE): logging stops, as pino's own destinations do. */
  #broken = false;
  readonly #flushLater = () => {
    this.#scheduled = false;
    this.flushSync();
  };

  constructor(readonly fd: number) {
    process.on("exit", () => this.flushSync());
  }

  /** pino's stream interface: one serialized line. */
  write(line: string): boolean {
    if (this.#broken) return true;
    this.#pending.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= maxBatchBytes || urgent.test(line)) {
      this.flushSync();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushLater);
    }
    return true;
  }

  /** pino's logger.flush() calls this. */
  flush(callback?: (error?: Error) => void): void {
    this.flushSync();
    callback?.();
  }

  /** Writes every pending line now. */
  flushSync(): void {
    if (this.#pending.length === 0) return;
    const data = Buffer.from(this.#pending.length === 1 ? (this.#pending[0] as string) : this.#pending.join(""));
    this.#pending = [];
    this.#bytes = 0;
    let offset = 0;
    while (offset < data.byteLength && !this.#broken) {
      try {
        offset += writeSync(this.fd, data, offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EBUSY") {
          // A non-blocking pipe is full: wait for the reader, briefly, as sonic-boom does.
          Atomics.wait(pause, 0, 0, 10);
        } else if (code === "EPIPE") {
          this.#broken = true;
        } else {
          throw error;
        }
      }
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));
