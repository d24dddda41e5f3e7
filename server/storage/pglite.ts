import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import type { Logger } from "../logger.js";
import { handleClientErrors } from "./client-errors.js";
import type { Engine } from "./engine.js";
import { HealthState } from "./health.js";

const inMemory = "memory://";

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) in a folder of this machine.
 * PGlite is one single-user backend, so the pool has one connection:
 * transactions take turns. Only one process may open a data folder at a
 * time; a lock file beside it says who has it.
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

/** Takes `<dataDir>.lock`, or fails naming the live process that holds it. A lock left by a dead process is taken over. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = `${path.resolve(dataDir)}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number((await readFile(lockFile, "utf8").catch(() => "")).trim());
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(`the data folder ${dataDir} is in use by process ${holder}; stop it, or set DATA_DIR to another folder`);
      }
      if (holder === process.pid) {
        throw new Error(`the data folder ${dataDir} is already open in this process`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock the data folder ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
