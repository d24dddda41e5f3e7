import type * as http2 from "node:http2";

/**
 * Closes an HTTP/2 session that has had no open stream for `timeoutMs`.
 * Node's own session timeout counts frames, so it would cut a quiet but live
 * stream (a watch with nothing to report); this counts streams instead.
 */
export function closeWhenIdle(session: http2.ServerHttp2Session, timeoutMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => session.close(), timeoutMs);
    timer.unref();
  };
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(timer);
    stream.once("close", () => {
      if (--open === 0) arm();
    });
  });
  session.once("close", () => clearTimeout(timer));
  arm();
}

/**
 * Closes an HTTP/2 session whose client opens no stream within `timeoutMs`
 * (HEADERS_TIMEOUT_MS), as HTTP/1.1 connections that send no request are:
 * otherwise a client could hold thousands of connections that only sent the
 * preface and SETTINGS for the whole idle timeout. `onClose` is told first,
 * to log it.
 */
export function closeWithoutFirstStream(session: http2.ServerHttp2Session, timeoutMs: number, onClose: () => void): void {
  const timer = setTimeout(() => {
    onClose();
    // GOAWAY(NO_ERROR): a client that was merely slow can reconnect and retry.
    session.close();
  }, timeoutMs);
  timer.unref();
  const stop = () => clearTimeout(timer);
  session.once("stream", stop);
  session.once("close", stop);
}
