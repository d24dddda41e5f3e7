import type { RequestHandler } from "../transport/http-handler.js";
import type { HealthRegistry } from "./registry.js";

const probePaths = new Set(["/healthz", "/readyz"]);

/**
 * Plain HTTP probes for load balancers and Kubernetes: `/healthz` answers 200
 * while the process runs (liveness: a draining server is alive and must not
 * be killed), `/readyz` answers 200 only while it should get new traffic and
 * 503 while it shuts down or a service is NOT_SERVING (e.g. the database is
 * unreachable). Every other request goes to `handler`.
 */
export function withProbes(registry: HealthRegistry, handler: RequestHandler): RequestHandler {
  return (req, res) => {
    if (!serveProbe(registry, req, res)) handler(req, res);
  };
}

function serveProbe(registry: HealthRegistry, ...[req, res]: Parameters<RequestHandler>): boolean {
  const path = (req.url ?? "").split("?", 1)[0] ?? "";
  if (!probePaths.has(path)) return false;
  const headers = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...headers, allow: "GET, HEAD" });
    res.end(`${req.method ?? ""} is not allowed: use GET\n`);
    return true;
  }
  let status = 200;
  let body = "ok\n";
  if (path === "/readyz") {
    const readiness = registry.readiness();
    if (!readiness.ready) [status, body] = [503, `not ready: ${readiness.reason}\n`];
    else body = "ready\n";
  }
  res.writeHead(status, headers);
  if (req.method === "HEAD") res.end();
  else res.end(body);
  return true;
}
