import { type Kysely, sql } from "kysely";
import type { Movie, MovieFilter, MoviePatch, MovieRepository } from "../domain/movies.js";
import type { Engine } from "./engine.js";
import { guard } from "./guard.js";
import type { Tables } from "./schema.js";

/** Rows fetched per query while streaming the catalogue. */
const batchSize = 100;
/** The listing order, locale-independent (see the movies_listing index). */
const sortKey = sql<string>`lower(title) collate "C"`;

export class SqlMovieRepository implements MovieRepository {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly engine: Engine,
  ) {}

  get(id: string): Promise<Movie | undefined> {
    return guard(this.engine, () =>
      this.db.selectFrom("movies").select(["id", "title", "director", "rating"]).where("id", "=", id).executeTakeFirst(),
    );
  }

  /** Keyset pagination under the hood: each batch starts after the last movie of the one before. */
  async *list(filter: MovieFilter, signal?: AbortSignal): AsyncIterable<Movie> {
    let after: { key: string; id: string } | undefined;
    for (;;) {
      signal?.throwIfAborted();
      let query = this.db
        .selectFrom("movies")
        .select(["id", "title", "director", "rating", sortKey.as("sort_key")])
        .orderBy(sortKey)
        .orderBy(sql`id collate "C"`)
        .limit(batchSize);
      if (filter.titleContains !== "") query = query.where(sql<boolean>`strpos(lower(title), lower(${filter.titleContains})) > 0`);
      if (filter.directorContains !== "") query = query.where(sql<boolean>`strpos(lower(director), lower(${filter.directorContains})) > 0`);
      if (after !== undefined) query = query.where(sql<boolean>`(${sortKey}, id collate "C") > (${after.key}, ${after.id})`);
      const rows = await guard(this.engine, () => query.execute());
      for (const { sort_key: _, ...movie } of rows) yield movie;
      const last = rows.at(-1);
      if (rows.length < batchSize || last === undefined) return;
      after = { key: last.sort_key, id: last.id };
    }
  }

  insert(movie: Movie): Promise<boolean> {
    return guard(this.engine, async () => {
      const inserted = await this.db
        .insertInto("movies")
        .values(movie)
        .onConflict((conflict) => conflict.column("id").doNothing())
        .returning("id")
        .executeTakeFirst();
      return inserted !== undefined;
    });
  }

  update(id: string, patch: MoviePatch): Promise<Movie | undefined> {
    return guard(this.engine, () => {
      if (Object.keys(patch).length === 0) return this.get(id);
      return this.db
        .updateTable("movies")
        .set(patch)
        .where("id", "=", id)
        .returning(["id", "title", "director", "rating"])
        .executeTakeFirst();
    });
  }

  delete(id: string): Promise<boolean> {
    return guard(this.engine, async () => {
      const result = await this.db.deleteFrom("movies").where("id", "=", id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }
}
