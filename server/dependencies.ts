import type { Config } from "./config.js";
import { Movies } from "./domain/movies.js";
import { Orders } from "./domain/orders.js";
import type { Logger } from "./logger.js";
import { createRateLimiters, memoryLimiters, postgresLimiters } from "./rate-limit/limiters.js";
import type { RouteDependencies } from "./routes.js";
import { openDatabase } from "./storage/database.js";
import type { StorageHooks } from "./storage/hooks.js";

export interface OpenDependencies {
  readonly dependencies: RouteDependencies;
  /** Ends open watches and closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the database (migrated, listening for changes) and builds the domain
 * objects on it: everything the stateful services need, built the same way
 * for the real server and for in-memory router tests.
 */
export async function openDependencies(
  config: Pick<Config, "database" | "watchBufferLimit" | "rateLimit">,
  logger: Logger,
  storageHooks?: StorageHooks,
): Promise<OpenDependencies> {
  const database = await openDatabase(config.database, logger, storageHooks);
  const orders = new Orders(database.orders, { watchBufferLimit: config.watchBufferLimit });
  // The writes budget is shared by every replica when they share PostgreSQL:
  // changes query the database anyway. Reads are counted by each replica in
  // memory: a shared counter would add a database write to every read and
  // make even Calculator and Greeter wait on PostgreSQL. Failed
  // authentications are shared too, or a guesser would get a budget per
  // replica; they are rare enough that counting them costs nothing.
  const shared = database.sharedPool ? postgresLimiters(database.sharedPool, () => database.health.reachable) : memoryLimiters;
  const factories = { writes: shared, reads: memoryLimiters, authFailures: shared };
  const rateLimiters = await createRateLimiters(config.rateLimit, factories).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  return {
    dependencies: { movies: new Movies(database.movies), orders, databaseHealth: database.health, rateLimiters },
    close: () => database.close(),
  };
}
