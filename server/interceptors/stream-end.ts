import type { Interceptor } from "@connectrpc/connect";

/**
 * A handler waiting for the client's next message learns at once that the
 * call is over (deadline passed, client gone, server shutting down): the
 * request stream throws the reason the call ended, instead of waiting for a
 * message that may never come. Without it, a bidirectional or client stream
 * whose client stays silent could outlive its deadline and the shutdown.
 */
export function streamEndInterceptor(): Interceptor {
  return (next) => (req) => (req.stream ? next({ ...req, message: untilAborted(req.message, req.signal) }) : next(req));
}

async function* untilAborted<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = messages[Symbol.asyncIterator]();
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  // Only observed while a message is awaited; never an unhandled rejection.
  aborted.catch(() => {});
  try {
    for (;;) {
      const result = await Promise.race([iterator.next(), aborted]);
      if (result.done === true) return;
      yield result.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    void iterator.return?.()?.catch(() => {});
  }
}
