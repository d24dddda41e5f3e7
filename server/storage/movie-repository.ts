import { type CompiledQuery, type Kysely, sql } from "kysely";
import type { Movie, MovieFilter, MoviePatch, MovieRepository } from "../domain/movies.js";
import { CatalogueCache } from "./catalogue-cache.js";
import type { Engine } from "./engine.js";
import { guard } from "./guard.js";
import { LookupBatches } from "./lookup-batch.js";
import type { Tables } from "./schema.js";

/**
 * Movies fetched per query while streaming the catalogue. Larger batches
 * cost fewer queries, but the embedded engine runs on the event loop, so a
 * batch also blocks every other call while it is read (a few milliseconds for 500).
 */
const batchSize = 500;
/** The largest catalogue kept in memory between listings: about 200 bytes a movie. */
const cachedMoviesLimit = 50_000;
/** The most ids one shared lookup asks for (see lookup-batch.ts). */
const lookupBatchLimit = 100;

export class SqlMovieRepository implements MovieRepository {
  readonly #catalogue = new CatalogueCache<Movie>(cachedMoviesLimit);
  /** GetMovie's lookups, sharing queries (see lookup-batch.ts). */
  readonly #lookups: LookupBatches<Movie>;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly engine: Engine,
  ) {
    // Built and compiled once: a lookup only changes its parameter. Building
    // and compiling with Kysely every time cost about as much CPU as the rest
    // of a lookup's database work.
    const { anyOfIds } = engine.sql;
    const byIds: CompiledQuery<Movie> = db
      .selectFrom("movies")
      .select(["id", "title", "director", "rating"])
      .where(anyOfIds.condition)
      .compile();
    this.#lookups = new LookupBatches<Movie>(
      (ids) =>
        guard(engine, async () => {
          const { rows } = await db.executeQuery<Movie>({ ...byIds, parameters: [anyOfIds.parameter(ids)] });
          return new Map(rows.map((movie) => [movie.id, movie]));
        }),
      lookupBatchLimit,
    );
  }

  get(id: string): Promise<Movie | undefined> {
    return this.#lookups.get(id);
  }

  /**
   * The unfiltered catalogue comes from memory when it has not changed since
   * it was last listed in full (see catalogue-cache.ts); anything else is
   * read from the database in batches.
   */
  async *list(filter: MovieFilter, signal?: AbortSignal): AsyncIterable<Movie> {
    if (filter.titleContains !== "" || filter.directorContains !== "") {
      yield* this.#batches(filter, signal);
      return;
    }
    const version = await this.#catalogueVersion();
    const cached = this.#catalogue.at(version);
    if (cached !== undefined) {
      let sent = 0;
      for (const movie of cached) {
        if (sent++ % batchSize === 0) signal?.throwIfAborted();
        yield movie;
      }
      return;
    }
    const collector = this.#catalogue.collect(version);
    for await (const movie of this.#batches(filter, signal)) {
      collector.add(movie);
      yield movie;
    }
    collector.keep(await this.#catalogueVersion());
  }

  /**
   * Keyset pagination: each batch starts after the last movie of the one
   * before. A batch comes back as one JSON array rather than one row per
   * movie: decoding a row costs the client far more than building the
   * array costs the server. The order (sorting keys, the JSON aggregate)
   * is the engine's (EngineSql).
   */
  async *#batches(filter: MovieFilter, signal?: AbortSignal): AsyncIterable<Movie> {
    const { sql: engineSql } = this.engine;
    let after: { title: string; id: string } | undefined;
    for (;;) {
      signal?.throwIfAborted();
      let query = this.db
        .selectFrom("movies")
        .select(["id", "title", "director", "rating"])
        .orderBy(engineSql.titleKey)
        .orderBy(engineSql.idKey)
        .limit(batchSize);
      if (filter.titleContains !== "") query = query.where(engineSql.contains("title", filter.titleContains));
      if (filter.directorContains !== "") query = query.where(engineSql.contains("director", filter.directorContains));
      if (after !== undefined) {
        const { title, id } = after;
        query = query.where(sql<boolean>`(${engineSql.titleKey}, ${engineSql.idKey}) > (${engineSql.titleKeyOf(title)}, ${id})`);
      }
      const batch = query.as("batch");
      const row = await guard(this.engine, () => this.db.selectFrom(batch).select(engineSql.batchAsJson.as("movies")).executeTakeFirst());
      const movies = engineSql.readBatch(row?.movies);
      for (const [id, title, director, rating] of movies) yield { id, title, director, rating };
      const last = movies.at(-1);
      if (movies.length < batchSize || last === undefined) return;
      after = { title: last[1], id: last[0] };
    }
  }

  /** Moves with every committed change to the movies (migration 0005). */
  async #catalogueVersion(): Promise<string> {
    const row = await guard(this.engine, () => this.db.selectFrom("movie_catalogue").select("version").executeTakeFirstOrThrow());
    return this.engine.sql.readVersion(row.version);
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
