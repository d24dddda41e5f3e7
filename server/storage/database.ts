import { createHash } from "node:crypto";
import { Kysely, type PostgresPool } from "kysely";
import { Migrator } from "kysely/migration";
import type { DatabaseConfig } from "../config.js";
import { UnavailableError } from "../domain/errors.js";
import type { MovieRepository } from "../domain/movies.js";
import type { OrderRepository } from "../domain/orders.js";
import type { Logger } from "../logger.js";
import type { Engine, EngineKind } from "./engine.js";
import { describeFailure, isCatalogChangedUnderLookup, isConnectionFailure } from "./failures.js";
import type { DatabaseHealth } from "./health.js";
import { noStorageHooks, type StorageHooks } from "./hooks.js";
import { SqlMovieRepository } from "./movie-repository.js";
import { SqlOrderRepository } from "./order-repository.js";
import type { Tables } from "./schema.js";

export type { DatabaseHealth } from "./health.js";

/** The open database: repositories for the domain, and its health for probes. */
export interface Database {
  readonly engine: EngineKind;
  readonly movies: MovieRepository;
  readonly orders: OrderRepository;
  /** Whether the database answers now, and a way to hear when that changes. */
  readonly health: DatabaseHealth;
  /**
   * With PostgreSQL, which replicas share, the pool calls use (with its query
   * deadline), for other state every replica must see, like rate limits;
   * undefined for the embedded database.
   */
  readonly sharedPool: PostgresPool | undefined;
  /** Closes every connection; call once no call uses the repositories any more. */
  close(): Promise<void>;
}

/**
 * Opens the configured engine (waiting for PostgreSQL if it is late), brings
 * the schema up to date, and starts listening for order changes.
 */
export async function openDatabase(config: DatabaseConfig, logger: Logger, hooks: StorageHooks = noStorageHooks): Promise<Database> {
  // Each engine's code is loaded only when it is the one used: node:sqlite for
  // the embedded database (Node 22 warns when it is), pg for PostgreSQL.
  const engine =
    config.engine === "sqlite"
      ? await (await import("./sqlite.js")).openSqlite(config, logger)
      : await (await import("./postgres.js")).openPostgres(config, logger);
  hooks.watchConnections(engine.connections, engine.kind);
  try {
    // Kysely never owns the connections: the engine closes them. Migrations
    // get connections without a query deadline, calls get the ones with it.
    const admin = new Kysely<Tables>({ dialect: engine.adminDialect });
    const db = new Kysely<Tables>({ dialect: hooks.wrapCallDialect(engine.callDialect, engine.kind) });
    // A connection lost halfway means starting over: the migrations of a
    // run share one transaction, and listening again is harmless.
    const schema = await engine.whileStarting("lost the connection to PostgreSQL while preparing the database", async () => {
      const schema = await engine.currentSchema(admin);
      await migrate(admin, engine, schema, logger);
      return schema;
    });
    const orders = await engine.whileStarting("could not listen for order changes yet", () =>
      SqlOrderRepository.open(db, engine, changeChannel(schema), logger),
    );
    return {
      engine: engine.kind,
      movies: new SqlMovieRepository(db, engine),
      orders,
      health: engine.health,
      sharedPool: engine.sharedPool,
      async close() {
        orders.endWatches(new UnavailableError("the server is shutting down; reopen the watch"));
        await engine.close();
      },
    };
  } catch (error) {
    await engine.close().catch(() => {});
    throw error;
  }
}

/** How many times a migration run starts over when the catalog changed under it. */
const catalogRetries = 5;

async function migrate(db: Kysely<Tables>, engine: Engine, schema: string | undefined, logger: Logger): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told
  // which: another deployment's (or test run's) schema in the same database
  // would make it skip creating its own.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(engine.migrations) },
    // Kysely's default, localeCompare, loads ICU's collation data (MB of RSS
    // on every start); the names are ASCII ("0001_movies"), so code-unit
    // order is the same order.
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    ...(schema !== undefined && { migrationTableSchema: schema }),
  });
  let { error, results = [] } = await migrator.migrateToLatest();
  // Kysely finds its bookkeeping tables through the catalog of the whole
  // database, every schema included: a schema that another deployment or
  // test run drops meanwhile fails the lookup, though nothing of ours is
  // wrong (and nothing was applied). Look again, a few times.
  for (let attempt = 1; error !== undefined && isCatalogChangedUnderLookup(error) && attempt <= catalogRetries; attempt++) {
    logger.warn({ reason: describeFailure(error), attempt }, "another client changed the database's catalog while migrating; trying again");
    ({ error, results = [] } = await migrator.migrateToLatest());
  }
  if (error !== undefined) {
    // The run's transaction rolled back: nothing was applied, whatever the results say.
    const failed = results.find((result) => result.status === "Error")?.migrationName;
    if (!isConnectionFailure(error)) logger.error({ migration: failed }, "database migration failed");
    throw error;
  }
  for (const result of results) {
    if (result.status === "Success") logger.info({ migration: result.migrationName }, "applied database migration");
  }
}

/**
 * NOTIFY channels are per database, not per schema: name the channel after
 * the schema so deployments sharing a database never see each other's
 * changes. The name is a plain lowercase identifier of at most 63 bytes, so
 * it needs no quoting anywhere.
 */
function changeChannel(schema: string | undefined): string {
  if (schema === undefined) return "order_changes";
  const channel = `order_changes_${schema}`;
  return /^[a-z_][a-z0-9_]{0,62}$/.test(channel)
    ? channel
    : `order_changes_${createHash("sha256").update(schema).digest("hex").slice(0, 40)}`;
}
