import type * as http2 from "node:http2";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { closeWhenIdle, closeWithoutFirstStream } from "./session-timeouts.js";
import { limitStreamResets, StreamResetFlood } from "./stream-resets.js";
import { ThrottledLog } from "./throttled-log.js";

export type SessionGuardsConfig = Pick<
  Config,
  "idleTimeoutMs" | "headersTimeoutMs" | "http2MaxResetsPerSecond" | "http2MaxConcurrentStreams" | "abuseCooldownMs"
>;

/**
 * The limits every HTTP/2 connection lives under, with their log lines
 * (throttled: an attacker can trip them thousands of times a second): idle
 * and silent connections are closed, a rapid-reset flood is cut (and
 * `onFlood` told, to cool its address down), and protocol errors nghttp2
 * stops by itself are logged instead of going unseen.
 */
export function sessionGuards(
  config: SessionGuardsConfig,
  logger: Logger,
  onFlood: (remoteAddress: string) => void,
): (session: http2.ServerHttp2Session) => void {
  const silent = new ThrottledLog(logger, "info", "closed HTTP/2 connections that opened no stream within HEADERS_TIMEOUT_MS");
  const floods = new ThrottledLog(
    logger,
    "warn",
    "closed HTTP/2 connections with GOAWAY(ENHANCE_YOUR_CALM): more stream resets than HTTP2_MAX_RESETS_PER_SECOND (rapid reset)",
  );
  const protocolErrors = new ThrottledLog(logger, "info", "HTTP/2 connection ended by a protocol error");
  const resetLimit = { perSecond: config.http2MaxResetsPerSecond, burst: config.http2MaxConcurrentStreams };

  return (session) => {
    const remoteAddress = session.socket.remoteAddress;
    closeWhenIdle(session, config.idleTimeoutMs);
    closeWithoutFirstStream(session, config.headersTimeoutMs, () => silent.event({ remoteAddress, timeoutMs: config.headersTimeoutMs }));
    limitStreamResets(session, resetLimit, (resets) => {
      floods.event({ remoteAddress, resets, limit: config.http2MaxResetsPerSecond, cooldownMs: config.abuseCooldownMs });
      if (remoteAddress !== undefined) onFlood(remoteAddress);
    });
    session.on("error", (error: NodeJS.ErrnoException) => {
      if (error instanceof StreamResetFlood) return; // logged above
      if (error.code === "ECONNRESET" || error.code === "EPIPE") logger.debug({ remoteAddress, err: error }, "connection error");
      else protocolErrors.event({ remoteAddress, code: error.code, err: error });
    });
  };
}
