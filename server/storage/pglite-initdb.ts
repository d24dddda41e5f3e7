/**
 * Creates a new embedded database cluster (PostgreSQL's initdb, in PGlite),
 * run as a child process of the server by pglite-setup.ts: initdb's
 * WebAssembly memory, several hundred MB at its peak, is never given back
 * to the process that ran it, so that process exits once the cluster is
 * written.
 *
 *   node pglite-initdb.js <empty folder>   writes the cluster into the folder
 */
import { PGlite } from "@electric-sql/pglite";
import { initdbParams } from "./pglite-settings.js";

const [target] = process.argv.slice(2);
if (target === undefined) {
  process.stderr.write("usage: pglite-initdb.js <empty folder>\n");
  process.exit(2);
}
const lite = await PGlite.create(target, { initDbStartParams: initdbParams });
await lite.close();
