import type { Dialect } from "kysely";
import type { ConnectionStats, EngineKind } from "./engine.js";

/**
 * What an observer (metrics, traces) may attach to the database without the
 * storage code knowing about it: a wrapper around the dialect that calls
 * use, and a look at the connections.
 */
export interface StorageHooks {
  /** Wraps the dialect calls use (not the migrations'): a wrapper may time and trace every query. */
  wrapCallDialect(dialect: Dialect, engine: EngineKind): Dialect;
  /** The connections behind both, to report how many are in use. */
  watchConnections(connections: ConnectionStats, engine: EngineKind): void;
}

export const noStorageHooks: StorageHooks = {
  wrapCallDialect: (dialect) => dialect,
  watchConnections: () => {},
};
