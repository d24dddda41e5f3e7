import { type Config, isLoopbackHost } from "../config.js";
import type { Logger } from "../logger.js";

/**
 * Warns once, at start, when bearer tokens would cross the network in clear
 * text: authentication is on, the port speaks no TLS, it can be reached from
 * other machines, and no TLS-terminating proxy is declared in front
 * (TRUST_PROXY). Anyone on the path could then copy a token and use it
 * until it expires. Not an error: a private network may be trusted on purpose.
 */
export function warnOfCleartextTokens(config: Pick<Config, "auth" | "tls" | "hosts" | "trustProxy">, logger: Logger): void {
  if (config.auth.mode !== "jwt" || config.tls !== undefined || config.hosts.every(isLoopbackHost) || config.trustProxy.length > 0) {
    return;
  }
  logger.warn(
    { hosts: config.hosts },
    "bearer tokens will travel in clear text: HOST can be reached from other machines without TLS; " +
      "set TLS_CERT and TLS_KEY, or put a TLS-terminating proxy in front and name it in TRUST_PROXY",
  );
}
