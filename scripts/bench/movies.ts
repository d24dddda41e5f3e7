import { pino } from "pino";
import type { DatabaseConfig } from "../../server/config.js";
import type { Movie } from "../../server/domain/movies.js";
import { openDatabase } from "../../server/storage/database.js";

/**
 * Fills the benchmark's own database (its data folder, or its PostgreSQL
 * schema) with `count` movies on top of the tutorial's seven, through the
 * project's storage layer (openDatabase runs the migrations, the movie
 * repository inserts), so nothing here depends on how an engine keeps its
 * data. Returns the whole catalogue, in the order ListMovies streams it: the
 * grpc-js server is given it, so both servers stream the same messages.
 *
 * Every field is set and no rating is 0: proto3 leaves default values off
 * the wire in protobuf-es, and protobuf.js (grpc-js) writes a field it is
 * given, so a 0 would make the two servers' bytes differ.
 */
export async function seedMovies(where: DatabaseConfig, count: number): Promise<readonly Movie[]> {
  const database = await openDatabase(where, pino({ level: "silent" }));
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
    return catalogue;
  } finally {
    await database.close();
  }
}
