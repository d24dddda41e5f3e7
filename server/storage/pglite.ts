import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import type { Logger } from "../logger.js";
import { handleClientErrors } from "./client-errors.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Engine } from "./engine.js";
import { HealthState } from "./health.js";

const inMemory = "memory://";

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) in a folder of this machine.
 * PGlite is one single-user backend, so the pool has one connection:
 * transactions take turns. Only one process may open a data folder at a
 * time (see data-dir-lock.ts).
 */
export async function openPglite(dataDir: string, logger: Logger): Promise<Engine> {
  let unlock = async () => {};
  if (dataDir !== inMemory) {
    await mkdir(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  let lite: PGlite;
  try {
    lite = await PGlite.create(dataDir === inMemory ? undefined : dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }
  logger.info({ engine: "pglite", dataDir }, `using the embedded database in ${dataDir}`);
  // One connection, never closed while idle: the PGlite adapter has a single
  // session that a pool must not end and reopen.
  const pool = new pg.Pool({ ...createPgConfig(lite), max: 1, idleTimeoutMillis: 0 });
  // In-process, so nothing should break; if it ever does, it is logged, never thrown.
  handleClientErrors(pool, (error) => logger.error({ err: error }, "the embedded database connection failed"));
  const unlisteners: Array<() => Promise<void>> = [];
  return {
    kind: "pglite",
    pool,
    // No network between here and the database: nothing to time out.
    callPool: pool,
    health: new HealthState(true),
    listening: true,
    async listen(channel, { onPayload }) {
      unlisteners.push(await lite.listen(channel, onPayload));
    },
    reportFailure() {},
    whileStarting: (_what, step) => step(),
    async close() {
      for (const unlisten of unlisteners) await unlisten().catch(() => {});
      await pool.end();
      await lite.close();
      await unlock();
    },
  };
}
