import { sleep } from "./dom.js";

/** Reconnect delays grow from the first to the last, with jitter so many pages do not retry in step. */
const firstRetryMs = 500;
const lastRetryMs = 15_000;
/** A stream that stayed up this long was healthy: the next failure starts the backoff over. */
const healthyAfterMs = 10_000;

export type LinkState =
  | { readonly kind: "connecting" }
  /** The server has sent the first message: the stream is open end to end. */
  | { readonly kind: "live" }
  /**
   * The stream failed (`failure`) or ended (undefined); the next attempt starts
   * at `at`. `lost` is true when it had been live since the last restart, so
   * this is a connection lost rather than one never made.
   */
  | { readonly kind: "reconnecting"; readonly at: number; readonly failure: unknown; readonly lost: boolean }
  /** The server refused the stream in a way retrying cannot fix (see `stopOn`); it waits for restart(). */
  | { readonly kind: "stopped"; readonly failure: unknown };

export interface LiveStream {
  /** Closes the current stream and opens a new one (for example over another protocol, or with a new token). */
  restart(): void;
  /** Skips the wait before the next attempt. */
  retryNow(): void;
}

/**
 * Keeps a server stream open for as long as the page is: when it fails or
 * ends, it is opened again after a growing, jittered delay, unless `stopOn`
 * says the failure needs the person first (such as a missing token). A live
 * stream the server ended on purpose, asking for it to be reopened
 * (`reopenAfter` gives the delay it asks for), is reopened after that delay
 * without the page ever saying it was lost.
 */
export function keepStreaming<T>(options: {
  open: (signal: AbortSignal) => AsyncIterable<T>;
  onMessage: (message: T) => void;
  onState: (state: LinkState) => void;
  stopOn?: (failure: unknown) => boolean;
  reopenAfter?: (failure: unknown) => number | undefined;
}): LiveStream {
  let running: AbortController | undefined;
  let waiting: AbortController | undefined;

  const run = async (signal: AbortSignal) => {
    let attempt = 0;
    let lost = false;
    // Reopening a stream the server ended on purpose: the page stays "live" meanwhile.
    let quietly = false;
    while (!signal.aborted) {
      if (!quietly) options.onState({ kind: "connecting" });
      quietly = false;
      const opened = Date.now();
      let failure: unknown;
      let first = true;
      try {
        for await (const message of options.open(signal)) {
          if (first) options.onState({ kind: "live" });
          first = false;
          lost = true;
          options.onMessage(message);
        }
      } catch (error) {
        if (signal.aborted) return;
        failure = error;
      }
      if (signal.aborted) return;
      if (failure !== undefined && options.stopOn?.(failure)) return options.onState({ kind: "stopped", failure });
      const reopenIn = !first && failure !== undefined ? options.reopenAfter?.(failure) : undefined;
      if (reopenIn !== undefined) {
        quietly = true;
        attempt = 0;
        await sleep(reopenIn, signal).catch(() => undefined);
        continue;
      }
      attempt = Date.now() - opened > healthyAfterMs ? 1 : attempt + 1;
      const ceiling = Math.min(lastRetryMs, firstRetryMs * 2 ** (attempt - 1));
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      options.onState({ kind: "reconnecting", at: Date.now() + delay, failure, lost });
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
