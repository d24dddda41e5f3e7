import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, codeToString } from "@connectrpc/connect/protocol-connect";
import { HostFilter, hostOf } from "../allowed-hosts.js";
import type { Logger } from "../logger.js";
import type { RequestHandler } from "../transport/http-handler.js";
import type { ServerMetrics } from "./metrics.js";

export const metricsPath = "/metrics";

/**
 * Decides whether a request may read the metrics: resolves if so, else
 * rejects with the ConnectError to answer (see server/auth/metrics-access.ts).
 */
export type MetricsGate = (headers: Headers) => Promise<void>;

/**
 * GET /metrics answers the Prometheus exposition, to the requests `gate`
 * lets through (every one without a gate); every other request goes to `handler`.
 */
export function withMetricsEndpoint(metrics: ServerMetrics, handler: RequestHandler, gate?: MetricsGate): RequestHandler {
  return (req, res) => {
    if ((req.url ?? "").split("?", 1)[0] !== metricsPath) handler(req, res);
    else if (gate === undefined) serveMetrics(metrics, req, res);
    else {
      const authorization = req.headers.authorization;
      gate(new Headers(authorization === undefined ? {} : { authorization })).then(
        () => serveMetrics(metrics, req, res),
        (error: unknown) => refuseMetrics(error, res),
      );
    }
  };
}

/** A refused scrape, answered as the API answers a refused call: the status, the challenge and a Connect error body. */
function refuseMetrics(error: unknown, res: Parameters<RequestHandler>[1]): void {
  const connectError = ConnectError.from(error);
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store" };
  const challenge = connectError.metadata.get("www-authenticate");
  if (challenge !== null) headers["www-authenticate"] = challenge;
  res.writeHead(codeToHttpStatus(connectError.code), headers);
  res.end(JSON.stringify({ code: codeToString(connectError.code), message: connectError.rawMessage }));
}

function serveMetrics(metrics: ServerMetrics, ...[req, res]: Parameters<RequestHandler>): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { "content-type": "text/plain; charset=utf-8", allow: "GET, HEAD" });
    res.end(`${req.method ?? ""} is not allowed: use GET\n`);
    return;
  }
  metrics.text().then(
    (text) => {
      res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
      if (req.method === "HEAD") res.end();
      else res.end(text);
    },
    (error: unknown) => {
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`could not collect metrics: ${String(error)}\n`);
    },
  );
}

/**
 * /metrics on a port of its own (METRICS_PORT), so that it can stay private;
 * anything else there is a 404. No token is asked for: the port is reachable
 * from where METRICS_HOST binds it (loopback by default). Host is checked as
 * on the API's port (ALLOWED_HOSTS), or a rebinding page could read it.
 */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenForMetrics(
  metrics: ServerMetrics,
  port: number,
  hosts: readonly string[],
  allowedHosts: readonly string[],
  logger: Logger,
): Promise<MetricsServer> {
  const notFound: RequestHandler = (_req, res) => {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end(`only ${metricsPath} is served on this port\n`);
  };
  const hostFilter = new HostFilter(allowedHosts);
  const endpoint = withMetricsEndpoint(metrics, notFound);
  const handler: RequestHandler = (req, res) => {
    const authority = req.headers.host ?? "";
    if (hostFilter.allows(authority)) {
      endpoint(req, res);
      return;
    }
    logger.info(
      { host: hostOf(authority), remoteAddress: req.socket.remoteAddress },
      "refused a scrape for a host name not in ALLOWED_HOSTS",
    );
    res.writeHead(421, { "content-type": "text/plain; charset=utf-8" });
    res.end(
      `this server does not answer for the host name "${hostOf(authority)}": scrape it by IP address or localhost, or add the name to ALLOWED_HOSTS\n`,
    );
  };
  const servers: http.Server[] = [];
  let chosenPort = port;
  try {
    for (const host of hosts) {
      const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
      server.listen({ port: chosenPort, host });
      await once(server, "listening");
      servers.push(server);
      chosenPort = (server.address() as AddressInfo).port;
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  logger.info({ metricsPort: chosenPort, hosts }, `serving Prometheus metrics on port ${chosenPort} at ${metricsPath}`);
  return {
    port: chosenPort,
    async close() {
      await Promise.all(
        servers.map((server) => {
          server.closeAllConnections();
          return new Promise((resolve) => server.close(resolve));
        }),
      );
    },
  };
}
