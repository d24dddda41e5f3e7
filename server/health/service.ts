import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Health } from "../../gen/health/v1/health_pb.js";
import { preview } from "../domain/text.js";
import type { HealthRegistry } from "./registry.js";

/** grpc.health.v1.Health over the registry: what grpc_health_probe and load balancers ask. */
export function healthService(registry: HealthRegistry): ServiceImpl<typeof Health> {
  return {
    check({ service }) {
      const status = registry.get(service);
      if (status === undefined)
        throw new ConnectError(
          `unknown service "${preview(service, 200)}": ask for "" (the server) or a service's full name`,
          Code.NotFound,
        );
      return { status };
    },

    async *watch({ service }, { signal }) {
      for await (const status of registry.watch(service, signal)) {
        yield { status };
        // Once NOT_SERVING for good is said, end the stream rather than hold
        // the graceful shutdown for its whole grace period; the client
        // retries, elsewhere.
        if (registry.isShuttingDown) throw new ConnectError("the server is shutting down", Code.Unavailable);
      }
    },

    list() {
      const statuses = Object.fromEntries([...registry.entries()].map(([service, status]) => [service, { status }]));
      return { statuses };
    },
  };
}
