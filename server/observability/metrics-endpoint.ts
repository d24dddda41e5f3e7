import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../logger.js";
import type { RequestHandler } from "../transport/http-handler.js";
import type { ServerMetrics } from "./metrics.js";

export const metricsPath = "/metrics";

/** GET /metrics answers the Prometheus exposition; every other request goes to `handler`. */
export function withMetricsEndpoint(metrics: ServerMetrics, handler: RequestHandler): RequestHandler {
  return (req, res) => {
    if ((req.url ?? "").split("?", 1)[0] === metricsPath) serveMetrics(metrics, req, res);
    else handler(req, res);
  };
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

/** /metrics on a port of its own (METRICS_PORT), so that it can stay private; anything else there is a 404. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenForMetrics(
  metrics: ServerMetrics,
  port: number,
  hosts: readonly string[],
  logger: Logger,
): Promise<MetricsServer> {
  const notFound: RequestHandler = (_req, res) => {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end(`only ${metricsPath} is served on this port\n`);
  };
  const servers: http.Server[] = [];
  let chosenPort = port;
  try {
    for (const host of hosts) {
      const server = http.createServer({ keepAliveTimeout: 65_000 }, withMetricsEndpoint(metrics, notFound));
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
