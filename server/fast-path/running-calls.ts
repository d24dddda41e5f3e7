import { Code, ConnectError } from "@connectrpc/connect";
import { armDeadline, CallSignal } from "./call.js";

/**
 * The calls running outside connect-node (on the fast path, or as REST), so
 * that the last step of a graceful shutdown ends them with UNAVAILABLE as
 * connect-node's shutdownSignal ends its own.
 */
export class RunningCalls {
  readonly #running = new Set<CallSignal>();

  constructor(shutdownSignal: AbortSignal | undefined) {
    shutdownSignal?.addEventListener(
      "abort",
      () => {
        const reason = ConnectError.from(shutdownSignal.reason, Code.Unavailable);
        for (const signal of this.#running) signal.abort(reason);
      },
      { once: true },
    );
  }

  /** A call's signal, aborted by its deadline and by the shutdown; the caller aborts it when the client leaves. */
  begin(timeoutMs: number | undefined): CallSignal {
    const signal = new CallSignal();
    armDeadline(signal, timeoutMs);
    this.#running.add(signal);
    return signal;
  }

  end(signal: CallSignal): void {
    signal.finish();
    this.#running.delete(signal);
  }
}
