import v8 from "node:v8";
import { PGlite } from "@electric-sql/pglite";

/**
 * PostgreSQL settings for the embedded database: sized for one small
 * service in one process, not for a database server. PostgreSQL's defaults
 * reserve 128 MB of shared buffers up front, which in PGlite is WebAssembly
 * memory that is never given back.
 */

/** initdb: WAL segments of 1 MB rather than 16, so that a memory:// database can keep little WAL. */
export const initdbParams = ["--wal-segsize=1"];

/**
 * The server's start parameters for a data folder. The WAL limits must
 * allow folders made before segments were 1 MB: PostgreSQL needs
 * min_wal_size to be at least two segments.
 */
export const folderStartParams = startParams({ minWal: "32MB", maxWal: "64MB" });

/**
 * For memory://, always a new cluster (so with 1 MB segments): its folder
 * is in the temporary folder, which may be a tmpfs, i.e. memory. A
 * standalone backend has no checkpointer, so checkpoints come from WAL
 * volume alone: max_wal_size bounds the WAL held at once.
 */
export const scratchStartParams = startParams({ minWal: "2MB", maxWal: "16MB" });

function startParams({ minWal, maxWal }: { minWal: string; maxWal: string }): string[] {
  const settings = {
    // The tables are small: 16 MB caches them whole, and most reads are of a few rows.
    shared_buffers: "16MB",
    // Only for temporary tables, which this service does not use.
    temp_buffers: "1MB",
    min_wal_size: minWal,
    max_wal_size: maxWal,
  };
  return [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])];
}

/**
 * V8 settings for a process that runs the embedded database, made before
 * PGlite's WebAssembly is compiled: WebAssembly stays on V8's baseline
 * compiler, Liftoff. Otherwise V8 recompiles PostgreSQL's hottest functions
 * with its optimising compiler once they have run a while, and the parser
 * and executor are huge functions: the server's RSS jumps by about 500 MB
 * for a second, and keeps 60 to 200 MB more. The benchmark's database
 * workloads are no slower on Liftoff code: their time goes to JavaScript
 * and HTTP. (`node --liftoff-only` says the same, but only on the command
 * line; at run time, a tiering budget never spent and a tier-up filter
 * that matches no function do it.)
 *
 * Node warns that flags changed after start may not take effect; these do,
 * and test/e2e/storage-embedded.test.ts fails if a Node release changes that.
 */
export function lightV8(): void {
  v8.setFlagsFromString("--wasm-tiering-budget=2147483647");
  v8.setFlagsFromString("--wasm-tier-up-filter=2147483647");
}
