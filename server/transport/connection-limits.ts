import type * as net from "node:net";
import type { Logger } from "../logger.js";
import { ThrottledLog } from "./throttled-log.js";

export interface ConnectionLimitsConfig {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly abuseCooldownMs: number;
}

export interface ConnectionLimits {
  /**
   * Refuses every new connection from `address` for `abuseCooldownMs`: a
   * client caught flooding (rapid reset) would otherwise reconnect at once
   * and start over, each new connection costing the server as much as the
   * last before it is caught again.
   */
  coolDown(address: string): void;
}

/** Addresses in cool-down held at most; a flood from ever-new addresses cannot grow the table without bound. */
const maxCoolingAddresses = 10_000;

/**
 * Bounds the connections one server holds, so that no client, however many
 * sockets it opens, can use up the process's file descriptors and memory or
 * crowd out the others: beyond `maxConnections` in all, or
 * `maxConnectionsPerAddress` from one IP address, new connections are closed
 * as they arrive, before a byte is read, and so are those from an address in
 * cool-down. The client sees its connection closed at once and may retry
 * later.
 */
export function limitConnections(acceptor: net.Server, config: ConnectionLimitsConfig, logger: Logger): ConnectionLimits {
  // Node refuses connections over this in its accept loop and emits "drop".
  acceptor.maxConnections = config.maxConnections;
  const overTotal = new ThrottledLog(logger, "warn", "refused connections: MAX_CONNECTIONS are open");
  acceptor.on("drop", (data?: net.DropArgument) => {
    overTotal.event({ remoteAddress: data?.remoteAddress, limit: config.maxConnections });
  });

  // Without a listener, a failed accept would be thrown as an uncaught
  // "error" and end the process. (libuv absorbs EMFILE by itself.)
  const acceptFailures = new ThrottledLog(logger, "warn", "could not accept a connection");
  acceptor.on("error", (error: NodeJS.ErrnoException) => acceptFailures.event({ code: error.code, err: error }));

  const perAddress = new Map<string, number>();
  const overPerAddress = new ThrottledLog(logger, "warn", "refused connections: MAX_CONNECTIONS_PER_ADDRESS are open from this address");
  const coolingUntil = new Map<string, number>();
  const refusedCooling = new ThrottledLog(
    logger,
    "warn",
    "refused connections from an address cooling down after a flood (ABUSE_COOLDOWN_MS)",
  );
  // Registered before any other "connection" listener sees the socket, even TLS's.
  acceptor.prependListener("connection", (socket: net.Socket) => {
    const address = clientAddress(socket);
    const until = coolingUntil.get(address);
    if (until !== undefined) {
      if (performance.now() < until) {
        refusedCooling.event({ remoteAddress: address, cooldownMs: config.abuseCooldownMs });
        socket.destroy();
        return;
      }
      coolingUntil.delete(address);
    }
    const open = perAddress.get(address) ?? 0;
    if (open >= config.maxConnectionsPerAddress) {
      overPerAddress.event({ remoteAddress: address, limit: config.maxConnectionsPerAddress });
      socket.destroy();
      return;
    }
    perAddress.set(address, open + 1);
    socket.once("close", () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });

  return {
    coolDown(address) {
      if (config.abuseCooldownMs === 0) return;
      const now = performance.now();
      if (coolingUntil.size >= maxCoolingAddresses) {
        for (const [cooling, until] of coolingUntil) if (until <= now) coolingUntil.delete(cooling);
        if (coolingUntil.size >= maxCoolingAddresses) return;
      }
      coolingUntil.set(normalizeAddress(address), now + config.abuseCooldownMs);
    },
  };
}

/** The client's IP address, an IPv4 client on a dual-stack socket ("::ffff:10.0.0.1") counted as itself. */
function clientAddress(socket: net.Socket): string {
  return normalizeAddress(socket.remoteAddress ?? "unknown");
}

function normalizeAddress(address: string): string {
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}
