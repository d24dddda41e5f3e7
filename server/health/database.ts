import type { DatabaseHealth } from "../storage/health.js";
import { ServingStatus, type HealthRegistry } from "./registry.js";

/**
 * Keeps the services that need the database NOT_SERVING while it cannot be
 * reached, and SERVING again once it answers, so load balancers and /readyz
 * send traffic elsewhere meanwhile. Returns the unsubscribe function.
 */
export function followDatabase(registry: HealthRegistry, database: DatabaseHealth, services: readonly string[]): () => void {
  const apply = (reachable: boolean) => {
    for (const service of services) registry.set(service, reachable ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  };
  registry.add(services);
  apply(database.reachable);
  return database.onChange(apply);
}
