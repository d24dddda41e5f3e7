import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import type { Logger } from "../logger.js";
import { handleClientErrors } from "./client-errors.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Engine } from "./engine.js";
import { HealthState } from "./health.js";
import { folderStartParams, lightV8, memoryStartParams } from "./pglite-settings.js";
import { initialiseFolder, withNewClusterTar } from "./pglite-setup.js";

const inMemory = "memory://";

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) in a folder of this machine.
 * PGlite is one single-user backend, so the pool has one connection:
 * transactions take turns. Only one process may open a data folder at a
 * time (see data-dir-lock.ts).
 *
 * A new database (a new folder, or memory://) is created by initdb in a
 * child process (pglite-setup.ts): its memory is then the child's, and is
 * returned when the child exits. This process only ever opens an existing
 * cluster, with buffers sized for an embedded service (pglite-settings.ts).
 */
export async function openPglite(dataDir: string, logger: Logger): Promise<Engine> {
  let unlock = async () => {};
  if (dataDir !== inMemory) {
    await mkdir(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  lightV8();
  let lite: PGlite;
  try {
    if (dataDir === inMemory) {
      lite = await withNewClusterTar((loadDataDir) => PGlite.create({ loadDataDir, startParams: memoryStartParams }));
      logger.info("created a new embedded database in memory");
    } else {
      // PGlite's own test for an existing cluster.
      if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
        await timed(logger, `created a new embedded database in ${dataDir}`, () => initialiseFolder(dataDir));
      }
      lite = await PGlite.create(dataDir, { startParams: folderStartParams });
    }
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

async function timed<T>(logger: Logger, done: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await step();
  logger.info({ durationMs: Math.round(performance.now() - started) }, done);
  return result;
}
