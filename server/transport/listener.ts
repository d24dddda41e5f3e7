import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import * as tls from "node:tls";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { connectionLifetime, goAwayGracefully } from "./connection-lifetime.js";
import { type ConnectionLimits, limitConnections } from "./connection-limits.js";
import { containFailures } from "./contain-failures.js";
import { normalizeGrpcMessageTrailers } from "./grpc-message.js";
import { answerClientErrors } from "./h1-client-errors.js";
import { http2HeaderListCap } from "./header-size.js";
import type { Dispatcher } from "./http-handler.js";
import { plainStream, screening, screenRequest } from "./screen-request.js";
import { sessionGuards } from "./session-guards.js";
import { sniffProtocol, type WireProtocol } from "./sniff.js";
import { nodeFloodLimits, skipResetStreams } from "./stream-resets.js";

/**
 * One port, every client: HTTP/1.1 (browsers, curl) and HTTP/2 (gRPC) on the
 * same listener. In cleartext the first bytes of a connection pick the
 * protocol; with TLS, ALPN does. Either way the connection is handed to one of
 * two servers that share the same request handler, timeouts and bookkeeping.
 */
export interface Listener {
  readonly port: number;
  /** The addresses bound, each on `port`. */
  readonly hosts: readonly string[];
  readonly tls: boolean;
  /** Stops accepting and asks every client to finish: GOAWAY on HTTP/2, `Connection: close` on HTTP/1.1. */
  drain(): void;
  /** Resolves once no request is in flight. */
  idle(): Promise<void>;
  /**
   * Lets every connection finish what it is sending, trailers and GOAWAY
   * included, for up to `timeoutMs`, then cuts the ones still open. Call it
   * after `drain` and once no call is in flight (or none should be anymore).
   */
  close(timeoutMs: number): Promise<void>;
}

export type ListenerConfig = Pick<
  Config,
  | "port"
  | "hosts"
  | "tls"
  | "http2MaxConcurrentStreams"
  | "idleTimeoutMs"
  | "headersTimeoutMs"
  | "maxTimeoutMs"
  | "maxConnections"
  | "maxConnectionsPerAddress"
  | "http2MaxResetsPerSecond"
  | "maxHeaderBytes"
  | "allowedHosts"
  | "abuseCooldownMs"
  | "http2KeepaliveMs"
  | "http2KeepaliveTimeoutMs"
  | "maxConnectionAgeMs"
  | "maxConnectionAgeGraceMs"
  | "tcpKeepaliveMs"
>;

/** Told of each connection once its protocol is known (ALPN, or its first bytes in cleartext); e.g. to count it until it closes. */
export type ConnectionHook = (protocol: WireProtocol, socket: net.Socket) => void;

export async function listen(
  dispatcher: Dispatcher,
  config: ListenerConfig,
  logger: Logger,
  onConnection?: ConnectionHook,
): Promise<Listener> {
  const requests = new InFlight();
  const h1Responses = new Set<http.ServerResponse>();
  let draining = false;
  // Keepalive and maximum connection age (hooks: accepted, session, http1, response).
  const lifetime = connectionLifetime(config, logger);
  const screen = screening(config, logger, dispatcher.errorBody);

  // HTTP/1.1 requests, and the HTTP/2 streams Node's compatibility layer
  // turned into requests: screened (a refusal is answered here), then the
  // dispatcher's.
  const handle = containFailures(
    (req, res) => {
      if (res instanceof http.ServerResponse) {
        requests.add(res);
        if (draining) res.shouldKeepAlive = false;
        lifetime.response(res);
        h1Responses.add(res);
        res.once("close", () => h1Responses.delete(res));
      }
      if (screenRequest(req, res, screen, logger)) return;
      normalizeGrpcMessageTrailers(req, res);
      dispatcher.request(req, res);
    },
    logger,
    dispatcher.errorBody,
  );

  const h1 = http.createServer(
    {
      keepAliveTimeout: config.idleTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      // How often the headers timeout is checked; Node's default (30 s)
      // would let a silent client hold a socket far longer than configured.
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
      // Streams (server streaming over Connect or gRPC-Web) may last as long
      // as the client wants; deadlines are the RPC layer's business.
      requestTimeout: 0,
      maxHeaderSize: config.maxHeaderBytes,
      // A missing Host is refused by checkRequestTarget, which also logs it.
      requireHostHeader: false,
    },
    handle,
  );
  answerClientErrors(h1, config, logger);
  // Node starts an HTTP/1 server's connection bookkeeping (the headers
  // timeout check, closeIdleConnections) when it listens. This one never
  // listens itself, the acceptor does, so start the bookkeeping by hand.
  h1.emit("listening");
  // No request listener: Node then leaves every stream to the "stream"
  // listener below, which screens it and hands it to the dispatcher. A
  // stream the dispatcher does not serve as it is goes through Node's
  // compatibility layer, kept in a server of its own that never listens,
  // to become a request (see Dispatcher).
  const h2 = http2.createServer({
    settings: {
      maxConcurrentStreams: config.http2MaxConcurrentStreams,
      maxHeaderListSize: http2HeaderListCap(config.maxHeaderBytes),
    },
    ...nodeFloodLimits({ perSecond: config.http2MaxResetsPerSecond, burst: config.http2MaxConcurrentStreams }),
  });
  const compatibility = http2.createServer(skipResetStreams(handle));
  // Made once: a stream's listeners are the same functions for every stream.
  const onStreamError = (error: Error) => logger.debug({ err: error }, "stream error");
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    requests.add(stream);
    stream.on("error", onStreamError);
    // A stream the screening would refuse is refused as a request (its answers are written for requests).
    if (!plainStream(headers, rawHeaders, screen) || !dispatcher.stream(stream, headers)) {
      compatibility.emit("stream", stream, headers, flags, rawHeaders);
    }
  });

  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let connectionLimits: ConnectionLimits[] = [];
  const guard = sessionGuards(config, logger, (remoteAddress) => {
    for (const limits of connectionLimits) limits.coolDown(remoteAddress);
  });
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    guard(session);
    lifetime.session(session);
    if (draining) session.close();
  });
  requests.onSettled = () => {
    if (draining) h1.closeIdleConnections();
  };

  const dispatch = (socket: net.Socket, protocol: WireProtocol) => {
    onConnection?.(protocol, socket);
    if (protocol !== "h2") lifetime.http1(socket);
    (protocol === "h2" ? h2 : h1).emit("connection", socket);
  };

  const track = (socket: net.Socket) => {
    // Refused by the connection limits.
    if (socket.destroyed) return;
    sockets.add(socket);
    lifetime.accepted(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", (error) => logger.debug({ err: error }, "connection error"));
  };

  const keyPair = config.tls && { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) };
  // Answers go out as soon as they are written, as http.createServer's own
  // sockets do (its noDelay default applies only to connections it accepts
  // itself): with Nagle's algorithm an HTTP/2 stream's trailers, or the next
  // answer on the connection, waited for the client's delayed ACK.
  const noDelay = true;
  const createAcceptor = (): net.Server => {
    if (keyPair) {
      const acceptor = tls.createServer(
        { ...keyPair, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: config.headersTimeoutMs, noDelay },
        (socket) => dispatch(socket, socket.alpnProtocol === "h2" ? "h2" : "http/1.1"),
      );
      acceptor.on("connection", track);
      acceptor.on("tlsClientError", (error) => logger.debug({ err: error }, "TLS handshake failed"));
      return acceptor;
    }
    return net.createServer({ noDelay }, (socket) => {
      if (socket.destroyed) return;
      track(socket);
      sniffProtocol(socket, config.headersTimeoutMs)
        .then((protocol) => {
          if (protocol !== undefined) dispatch(socket, protocol);
        })
        .catch((error: unknown) => {
          // Not a client's doing; it must cost this connection only, not the process.
          logger.error({ err: error, remoteAddress: socket.remoteAddress }, "could not hand a connection to the HTTP server");
          socket.destroy();
        });
    });
  };

  const acceptors = await listenOnEvery(config.hosts, config.port, createAcceptor, logger);
  // After listening: an error before it (port in use) must fail the start.
  // The limits count per bound address (a client reaches only one of them).
  connectionLimits = acceptors.map((acceptor) => limitConnections(acceptor, config, logger));
  const address = acceptors[0]?.address() as net.AddressInfo;

  return {
    port: address.port,
    hosts: acceptors.map((acceptor) => (acceptor.address() as net.AddressInfo).address),
    tls: config.tls !== undefined,
    drain() {
      draining = true;
      for (const acceptor of acceptors) acceptor.close();
      for (const session of sessions) goAwayGracefully(session);
      // Answers still being prepared tell the client to close the connection
      // afterwards; idle keep-alive connections are closed now, busy ones as
      // soon as their call ends.
      for (const res of h1Responses) if (!res.headersSent) res.shouldKeepAlive = false;
      h1.closeIdleConnections();
    },
    idle: () => requests.settled(),
    async close(timeoutMs) {
      // Sessions sent GOAWAY in drain end their socket once their last
      // stream has closed and its frames are written; HTTP/1 sockets end
      // after their last answer. Cutting them earlier loses those last frames.
      const open = [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve)));
      // The timer holds the process for at most `timeoutMs`: unreferenced, a
      // process with nothing else to do (an idle client session of its own
      // that never closes) would stop here, shutdown never complete, the
      // database never closed.
      await Promise.race([Promise.all(open), sleep(timeoutMs)]);
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * One acceptor per host, all on the same port (the first one picks it when
 * `port` is 0, and if another host has that port taken, all pick again). An
 * address this machine lacks (no IPv6, say) is skipped with a warning while
 * another one is bound.
 */
async function listenOnEvery(
  hosts: readonly string[],
  port: number,
  createAcceptor: () => net.Server,
  logger: Logger,
): Promise<net.Server[]> {
  for (let attempt = 1; ; attempt++) {
    const bound: net.Server[] = [];
    let chosenPort = port;
    let skipped: unknown;
    try {
      for (const host of hosts) {
        const acceptor = createAcceptor();
        acceptor.listen({ port: chosenPort, host });
        try {
          await once(acceptor, "listening");
        } catch (error) {
          if (!isMissingAddress(error) || hosts.length === 1) throw error;
          logger.warn({ host, reason: (error as Error).message }, `cannot listen on ${host}; serving on the other addresses`);
          skipped = error;
          continue;
        }
        bound.push(acceptor);
        chosenPort = (acceptor.address() as net.AddressInfo).port;
      }
      if (bound.length === 0) throw skipped;
      return bound;
    } catch (error) {
      for (const acceptor of bound) acceptor.close();
      const pickAgain = port === 0 && bound.length > 0 && (error as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 5;
      if (!pickAgain) throw error;
    }
  }
}

/** The machine has no such address, or no such address family. */
function isMissingAddress(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT";
}

/** Counts requests whose response has not closed yet. */
class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];
  onSettled: () => void = () => {};

  add(res: { once(event: "close", listener: () => void): unknown }): void {
    this.count++;
    res.once("close", this.closed);
  }

  /** One function for every request: nothing is made per request. */
  private readonly closed = () => {
    this.count--;
    this.onSettled();
    if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
  };

  settled(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
