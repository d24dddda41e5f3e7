import { ConnectError } from "@connectrpc/connect";
import { sleep } from "./dom.js";
import { codeName } from "./errors.js";

/** Reconnect delays grow from the first to the last, with jitter so many pages do not retry in step. */
const firstRetryMs = 500;
const lastRetryMs = 15_000;
/** A stream that stayed up this long was healthy: the next failure starts the backoff over. */
const healthyAfterMs = 10_000;

export type LinkState =
  | { readonly kind: "connecting" }
  /** The server has sent the first message: the stream is open end to end. */
  | { readonly kind: "live" }
  | { readonly kind: "reconnecting"; readonly at: number; readonly reason: string };

export interface LiveStream {
  /** Closes the current stream and opens a new one (for example over another protocol). */
  restart(): void;
  /** Skips the wait before the next attempt. */
  retryNow(): void;
}

/**
 * Keeps a server stream open for as long as the page is: when it fails or
 * ends, it is opened again after a growing, jittered delay.
 */
export function keepStreaming<T>(options: {
  open: (signal: AbortSignal) => AsyncIterable<T>;
  onMessage: (message: T) => void;
  onState: (state: LinkState) => void;
}): LiveStream {
  let running: AbortController | undefined;
  let waiting: AbortController | undefined;

  const run = async (signal: AbortSignal) => {
    let attempt = 0;
    while (!signal.aborted) {
      options.onState({ kind: "connecting" });
      const opened = Date.now();
      let reason = "the stream ended";
      try {
        let first = true;
        for await (const message of options.open(signal)) {
          if (first) options.onState({ kind: "live" });
          first = false;
          options.onMessage(message);
        }
      } catch (failure) {
        if (signal.aborted) return;
        reason = codeName(ConnectError.from(failure).code).toLowerCase().replace(/_/g, " ");
      }
      if (signal.aborted) return;
      attempt = Date.now() - opened > healthyAfterMs ? 1 : attempt + 1;
      const ceiling = Math.min(lastRetryMs, firstRetryMs * 2 ** (attempt - 1));
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      options.onState({ kind: "reconnecting", at: Date.now() + delay, reason });
      waiting = new AbortController();
      await sleep(delay, AbortSignal.any([signal, waiting.signal])).catch(() => undefined);
    }
  };

  return {
    restart() {
      running?.abort();
      running = new AbortController();
      void run(running.signal);
    },
    retryNow: () => waiting?.abort(),
  };
}
