/**
 * Creates a new embedded database cluster (PostgreSQL's initdb, in PGlite),
 * run as a child process of the server by pglite-setup.ts: initdb's
 * WebAssembly memory, several hundred MB at its peak, is never given back
 * to the process that ran it, so that process exits once the cluster is
 * written.
 *
 *   node pglite-initdb.js folder <empty folder>   writes the cluster into the folder
 *   node pglite-initdb.js tar <file>              writes it, as a tar, to the file
 */
import { writeFile } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { initdbParams } from "./pglite-settings.js";

const [mode, target] = process.argv.slice(2);
if ((mode !== "folder" && mode !== "tar") || target === undefined) {
  process.stderr.write("usage: pglite-initdb.js folder <empty folder> | tar <file>\n");
  process.exit(2);
}
const lite = await PGlite.create(mode === "folder" ? target : undefined, { initDbStartParams: initdbParams });
if (mode === "tar") await writeFile(target, new Uint8Array(await (await lite.dumpDataDir("none")).arrayBuffer()));
await lite.close();
