import type * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { ThrottledLog } from "./throttled-log.js";

export type ConnectionLifetimeConfig = Pick<
  Config,
  "http2KeepaliveMs" | "http2KeepaliveTimeoutMs" | "maxConnectionAgeMs" | "maxConnectionAgeGraceMs" | "tcpKeepaliveMs"
>;

/**
 * How long connections live, and how dead ones are found (after grpc-go's
 * keepalive.ServerParameters):
 * - TCP keepalive on every accepted socket, so the kernel finds peers that
 *   vanished without a FIN (a crashed machine, a dropped NAT entry);
 * - HTTP/2 PING every HTTP2_KEEPALIVE_MS: a session whose peer does not
 *   answer within HTTP2_KEEPALIVE_TIMEOUT_MS is destroyed, freeing its
 *   streams (a watch to a dead client would otherwise stay open for hours);
 * - MAX_CONNECTION_AGE_MS: a connection that old (±10% jitter, so
 *   connections made together do not all reconnect together) is asked to
 *   go: GOAWAY on HTTP/2, `Connection: close` on HTTP/1.1's next answer.
 *   Calls in flight finish; after MAX_CONNECTION_AGE_GRACE_MS the
 *   connection is closed whatever runs on it. Clients reconnect, and behind
 *   a DNS name or an L4 balancer spread over the replicas again.
 */
export interface ConnectionLifetime {
  /** Every accepted TCP socket: TCP keepalive. */
  accepted(socket: net.Socket): void;
  /** Every HTTP/2 session: PING keepalive and maximum age. */
  session(session: http2.ServerHttp2Session): void;
  /** Every HTTP/1.1 connection, once its protocol is known: maximum age. */
  http1(socket: net.Socket): void;
  /** Every HTTP/1.1 response: `Connection: close` once its connection is past its age. */
  response(res: http.ServerResponse): void;
}

export function connectionLifetime(config: ConnectionLifetimeConfig, logger: Logger): ConnectionLifetime {
  const aged = new WeakSet<net.Socket>();
  const deadPeers = new ThrottledLog(
    logger,
    "info",
    "closed HTTP/2 connections whose peer did not answer a PING within HTTP2_KEEPALIVE_TIMEOUT_MS (dead peer)",
  );
  const overGrace = new ThrottledLog(
    logger,
    "info",
    "closed connections still busy MAX_CONNECTION_AGE_GRACE_MS after MAX_CONNECTION_AGE_MS asked them to go",
  );
  /** Runs `goAway` at the connection's age and `close` after the grace; both timers end with the connection. */
  const limitAge = (connection: { once(event: "close", listener: () => void): unknown }, goAway: () => void, close: () => void) => {
    if (config.maxConnectionAgeMs === 0) return;
    const age = config.maxConnectionAgeMs * (0.9 + Math.random() * 0.2);
    let graceTimer: NodeJS.Timeout | undefined;
    const ageTimer = setTimeout(() => {
      goAway();
      graceTimer = setTimeout(close, config.maxConnectionAgeGraceMs).unref();
    }, age).unref();
    connection.once("close", () => {
      clearTimeout(ageTimer);
      clearTimeout(graceTimer);
    });
  };

  return {
    accepted(socket) {
      if (config.tcpKeepaliveMs > 0) socket.setKeepAlive(true, config.tcpKeepaliveMs);
    },
    session(session) {
      limitAge(
        session,
        () => goAwayGracefully(session),
        () => {
          if (session.destroyed) return;
          overGrace.event({ remoteAddress: session.socket?.remoteAddress });
          session.destroy();
        },
      );
      if (config.http2KeepaliveMs > 0) keepAlive(session, config, () => deadPeers.event({ remoteAddress: session.socket?.remoteAddress }));
    },
    http1(socket) {
      limitAge(
        socket,
        () => aged.add(socket),
        () => {
          if (socket.destroyed) return;
          overGrace.event({ remoteAddress: socket.remoteAddress });
          socket.destroy();
        },
      );
    },
    response(res) {
      if (aged.has(res.socket as net.Socket)) res.shouldKeepAlive = false;
    },
  };
}

/**
 * Asks an HTTP/2 client to go without refusing a stream it is sending right
 * now (RFC 9113 §6.8, as grpc-go and nghttp2's shutdown notice do): first a
 * GOAWAY naming the highest possible stream id, so the client opens no new
 * stream, then one PING round trip later the final GOAWAY with the last
 * stream the server took (session.close: the streams in flight finish). A
 * single GOAWAY would refuse (REFUSED_STREAM) the requests already on their
 * way, which many clients report as a failed call.
 */
export function goAwayGracefully(session: http2.ServerHttp2Session): void {
  if (session.closed || session.destroyed) return;
  const final = () => {
    if (!session.closed && !session.destroyed) session.close();
  };
  try {
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
  } catch {
    final();
    return;
  }
  // A client that does not answer PING gets the final GOAWAY a second later.
  setTimeout(final, 1_000).unref();
  if (!session.ping(final)) final();
}

/** PINGs `session` every interval; destroys it when an answer takes longer than the timeout. */
function keepAlive(session: http2.ServerHttp2Session, config: ConnectionLifetimeConfig, onDead: () => void): void {
  let waiting: NodeJS.Timeout | undefined;
  const interval = setInterval(() => {
    if (waiting !== undefined || session.closed || session.destroyed) return;
    waiting = setTimeout(() => {
      onDead();
      session.destroy(undefined, http2.constants.NGHTTP2_NO_ERROR);
    }, config.http2KeepaliveTimeoutMs).unref();
    // Answered, or cancelled because the session ended: either way, stop waiting.
    const sent = session.ping(() => {
      clearTimeout(waiting);
      waiting = undefined;
    });
    if (!sent) {
      // Too many PINGs unanswered already (Node's limit): the peer is not answering.
      clearTimeout(waiting);
      waiting = undefined;
    }
  }, config.http2KeepaliveMs).unref();
  session.once("close", () => {
    clearInterval(interval);
    clearTimeout(waiting);
  });
}
