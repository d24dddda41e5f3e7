import { createHash } from "node:crypto";
import { Kysely, PostgresDialect, type PostgresPool, sql } from "kysely";
import { Migrator } from "kysely/migration";
import type { DatabaseConfig } from "../config.js";
import { UnavailableError } from "../domain/errors.js";
import type { MovieRepository } from "../domain/movies.js";
import type { OrderRepository } from "../domain/orders.js";
import type { Logger } from "../logger.js";
import type { Engine } from "./engine.js";
import { isConnectionFailure } from "./failures.js";
import type { DatabaseHealth } from "./health.js";
import { noStorageHooks, type StorageHooks } from "./hooks.js";
import { migrations } from "./migrations.js";
import { SqlMovieRepository } from "./movie-repository.js";
import { SqlOrderRepository } from "./order-repository.js";
import { openPglite } from "./pglite.js";
import { openPostgres } from "./postgres.js";
import type { Tables } from "./schema.js";

export type { DatabaseHealth } from "./health.js";

/** The open database: repositories for the domain, and its health for probes. */
export interface Database {
  readonly engine: Engine["kind"];
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
  const engine = config.engine === "pglite" ? await openPglite(config.dataDir, logger) : await openPostgres(config, logger);
  hooks.watchPool(engine.pool, engine.kind);
  try {
    // Kysely never owns the pools: the engine closes them. Migrations get
    // connections without a query deadline, calls get the ones with it.
    const admin = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: engine.pool }) });
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: hooks.wrapCallPool(engine.callPool, engine.kind) }) });
    // A connection lost halfway means starting over: the migrations of a
    // run share one transaction, and listening again is harmless.
    const schema = await engine.whileStarting("lost the connection to PostgreSQL while preparing the database", async () => {
      const schema = await currentSchema(admin);
      await migrate(admin, schema, logger);
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
      sharedPool: engine.kind === "postgres" ? engine.callPool : undefined,
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

async function currentSchema(db: Kysely<Tables>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (schema === null || schema === undefined) {
    throw new Error("the database has no schema to use: its search_path names no schema that exists");
  }
  return schema;
}

async function migrate(db: Kysely<Tables>, schema: string, logger: Logger): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told
  // which: another deployment's (or test run's) schema in the same database
  // would make it skip creating its own.
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) }, migrationTableSchema: schema });
  const { error, results = [] } = await migrator.migrateToLatest();
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
function changeChannel(schema: string): string {
  const channel = `order_changes_${schema}`;
  return /^[a-z_][a-z0-9_]{0,62}$/.test(channel)
    ? channel
    : `order_changes_${createHash("sha256").update(schema).digest("hex").slice(0, 40)}`;
}
