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
import { batchingPglite } from "./pglite-batching.js";
import { folderStartParams, lightV8, scratchStartParams } from "./pglite-settings.js";
import { initialiseFolder } from "./pglite-setup.js";
import { createScratchFolder } from "./scratch-folder.js";

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
 * memory:// is a new folder under the OS's temporary folder, removed when
 * the database closes (scratch-folder.ts): the same as a folder for memory,
 * and nothing survives a restart.
 */
export async function openPglite(dataDir: string, logger: Logger): Promise<Engine> {
  lightV8();
  // memory:// is a new folder of its own, removed on close (scratch-folder.ts).
  const scratch = dataDir === inMemory ? await createScratchFolder() : undefined;
  const folder = scratch?.dataDir ?? dataDir;
  let unlock: () => Promise<void>;
  if (scratch === undefined) {
    await mkdir(folder, { recursive: true });
    unlock = await lockDataDir(folder);
  } else {
    unlock = () => scratch.remove();
  }
  let lite: PGlite;
  try {
    // PGlite's own test for an existing cluster.
    if (!existsSync(path.join(folder, "PG_VERSION"))) {
      const where = scratch === undefined ? folder : `memory:// (in ${folder})`;
      await timed(logger, { folder }, `created a new embedded database in ${where}`, () => initialiseFolder(folder));
    }
    lite = await PGlite.create(folder, { startParams: scratch === undefined ? folderStartParams : scratchStartParams });
  } catch (error) {
    await unlock();
    throw error;
  }
  logger.info({ engine: "pglite", dataDir }, `using the embedded database in ${dataDir}`);
  // One connection, never closed while idle: the PGlite adapter has a single
  // session that a pool must not end and reopen.
  const pool = new pg.Pool({ ...createPgConfig(batchingPglite(lite)), max: 1, idleTimeoutMillis: 0 });
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

async function timed<T>(logger: Logger, fields: object, done: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await step();
  logger.info({ ...fields, durationMs: Math.round(performance.now() - started) }, done);
  return result;
}
