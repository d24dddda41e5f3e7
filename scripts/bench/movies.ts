import { writeFileSync } from "node:fs";
import { pino } from "pino";
import type { Movie } from "../../server/domain/movies.js";
import { openDatabase } from "../../server/storage/database.js";

/**
 * Fills the benchmark's own data folder with `count` movies on top of the
 * tutorial's seven, through the project's storage layer (openDatabase runs
 * the migrations, the movie repository inserts), so nothing here depends on
 * how the embedded engine keeps its files. Then writes the whole catalogue,
 * in the order ListMovies streams it, to `catalogueFile` for the grpc-js
 * server, so both servers stream the same messages.
 *
 * Every field is set and no rating is 0: proto3 leaves default values off
 * the wire in protobuf-es, and protobuf.js (grpc-js) writes a field it is
 * given, so a 0 would make the two servers' bytes differ.
 */
export async function seedMovies(dataDir: string, count: number, catalogueFile: string): Promise<readonly Movie[]> {
  const database = await openDatabase({ engine: "sqlite", dataDir, synchronous: "normal" }, pino({ level: "silent" }));
  try {
    const width = String(count).length;
    // The repository queues inserts on its pool; a bounded number in flight keeps memory small.
    for (let first = 0; first < count; first += 500) {
      const batch: Promise<boolean>[] = [];
      for (let i = first; i < Math.min(count, first + 500); i++) {
        const n = String(i + 1).padStart(width, "0");
        batch.push(
          database.movies.insert({
            id: `bench-${n}`,
            title: `Benchmark Movie ${n}`,
            director: `Director ${String(i % 997).padStart(3, "0")}`,
            rating: ((i % 100) + 1) / 10,
          }),
        );
      }
      await Promise.all(batch);
    }
    const catalogue: Movie[] = [];
    for await (const movie of database.movies.list({ titleContains: "", directorContains: "" })) catalogue.push(movie);
    writeFileSync(catalogueFile, JSON.stringify(catalogue));
    return catalogue;
  } finally {
    await database.close();
  }
}
