import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import type { DatabaseConfig } from "../../server/config.js";
import type { Movie } from "../../server/domain/movies.js";
import { type Database, openDatabase } from "../../server/storage/database.js";
import { type EngineCase, engineCases, postgresSkipReason } from "../support/database.js";

// The catalogue as the storage layer lists it: in batches from the database,
// or from memory while nothing has changed (catalogue-cache.ts). Whichever it
// is, a listing must show every committed change, made here or by another
// replica.

const silent = pino({ level: "silent" });
/** More than two of the repository's batches, so listings cross batch boundaries. */
const extraMovies = 1_203;

function configOf(engine: EngineCase): DatabaseConfig {
  const { DATA_DIR: dataDir, DATABASE_URL: url } = engine.env;
  if (dataDir !== undefined) return { engine: "sqlite", dataDir, synchronous: "full" };
  assert.ok(url);
  return { engine: "postgres", url, poolSize: 4, startupTimeoutMs: 5_000 };
}

async function listAll(database: Database, filter = { titleContains: "", directorContains: "" }): Promise<Movie[]> {
  const movies: Movie[] = [];
  for await (const movie of database.movies.list(filter)) movies.push({ ...movie });
  return movies;
}

/** The listing order: title ignoring case (ASCII here), then id, both compared as bytes. */
function listingOrder(a: Movie, b: Movie): number {
  const [keyA, keyB] = [a.title.toLowerCase(), b.title.toLowerCase()];
  if (keyA !== keyB) return keyA < keyB ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Titles in listing order: title with case ignored, then id (each title's id
 * is its position here, so titles equal but for case are in this order
 * too). A locale's collation would put "_under" among the letters, "Élan"
 * next to "Elan", and "ßeta" among the s.
 */
const differentlySorted = [
  "10 Things",
  "9 Lives",
  "_under",
  "A b",
  "a-b",
  "a_b",
  "aB",
  "ab",
  "Elan",
  "elan",
  "istanbul",
  "İstanbul",
  "STRASSE",
  "Straße",
  "Uber",
  "Zebra",
  "zebra",
  "Zz",
  "~tilde",
  "ßeta",
  "ÅNGSTRÖM",
  "ångström",
  "Élan",
  "élan",
  "Ézra",
  "über",
  "Ünder",
  "ǅemal",
  "σας",
  "ΣΑΣ",
  "Ωmega",
  "ωmega",
  "Ꭰsa",
  "ＡＢ",
];

for (const engine of await engineCases()) {
  describe(`the movie catalogue on ${engine.name}`, () => {
    // Opened when the suite starts, not while another engine's suite runs:
    // SQLite's writes hold the event loop (node:sqlite is synchronous), and
    // a PostgreSQL connection opening meanwhile could time out.
    let database: Database;
    before(async () => {
      database = await openDatabase(configOf(engine), silent);
    });
    after(async () => {
      await database?.close();
      await engine.cleanup();
    });
    const inserted: Movie[] = [];

    test("a catalogue of several batches lists every movie once, in order, with and without a filter", async () => {
      const seeded = await listAll(database);
      for (let i = 0; i < extraMovies; i++) {
        // Titles that differ only in case, and repeat, so ties are broken by id across batch boundaries.
        const title = `${i % 2 === 0 ? "Film" : "FILM"} ${String(Math.floor(i / 3)).padStart(4, "0")}`;
        const movie = {
          id: `catalogue-${String((i * 7919) % extraMovies).padStart(5, "0")}`,
          title,
          director: `Director ${i % 13}`,
          rating: (i % 100) / 10,
        };
        assert.equal(await database.movies.insert(movie), true);
        inserted.push(movie);
      }
      const expected = [...seeded, ...inserted].sort(listingOrder);
      assert.deepEqual(await listAll(database), expected);
      assert.deepEqual(await listAll(database), expected, "listed again, from memory");
      assert.deepEqual(
        await listAll(database, { titleContains: "film 0", directorContains: "" }),
        expected.filter((movie) => movie.title.toLowerCase().includes("film 0")),
      );
      assert.deepEqual(
        await listAll(database, { titleContains: "", directorContains: "director 1" }),
        expected.filter((movie) => movie.director.toLowerCase().includes("director 1")),
      );
    });

    test("every committed change shows in the next listing", async () => {
      const [first, second] = inserted;
      assert.ok(first && second);
      await listAll(database);
      await database.movies.update(first.id, { rating: 9.9 });
      assert.equal((await listAll(database)).find((movie) => movie.id === first.id)?.rating, 9.9);
      await database.movies.delete(second.id);
      assert.equal(
        (await listAll(database)).find((movie) => movie.id === second.id),
        undefined,
      );
      const added = { id: "catalogue-added", title: "Aardvark", director: "Someone", rating: 5 };
      await database.movies.insert(added);
      assert.deepEqual((await listAll(database))[0], added);
      // A change that removes nothing still counts as one: nothing is served stale either way.
      assert.equal(await database.movies.delete("no-such-movie"), false);
      assert.deepEqual((await listAll(database))[0], added);
    });

    test("a listing that a change overtook is not kept for the next one", async () => {
      const before = await listAll(database);
      const overtaken = before[0];
      assert.ok(overtaken);
      // A change first, so this listing reads the database rather than memory.
      await database.movies.update(overtaken.id, { rating: 1 });
      const listing = database.movies.list({ titleContains: "", directorContains: "" })[Symbol.asyncIterator]();
      assert.equal((await listing.next()).value?.id, overtaken.id);
      // Changed after the listing read it: the listing shows the old movie, and the next one must not.
      await database.movies.update(overtaken.id, { title: `${overtaken.title} (renamed)` });
      let rest = 0;
      while (!(await listing.next()).done) rest++;
      assert.equal(rest, before.length - 1);
      assert.equal((await listAll(database))[0]?.title, `${overtaken.title} (renamed)`);
    });

    test("titles that sort differently under other collations list in the same order on both engines", async () => {
      // Shuffled on the way in; listed by title with case ignored (accented
      // and non-Latin letters too), then by id, code point by code point:
      // punctuation and digits before letters, accented letters after z.
      const shuffled = differentlySorted.map((title, i) => ({ title, i })).sort((a, b) => ((a.i * 7) % 34) - ((b.i * 7) % 34));
      for (const { title, i } of shuffled) {
        await database.movies.insert({ id: `order-${String(i).padStart(2, "0")}`, title, director: "Collation", rating: 5 });
      }
      const listed = (await listAll(database)).filter((movie) => movie.id.startsWith("order-")).map((movie) => movie.title);
      assert.deepEqual(listed, differentlySorted);
      const filtered = await listAll(database, { titleContains: "ÉLAN", directorContains: "collation" });
      assert.deepEqual(
        filtered.map((movie) => movie.title),
        ["Élan", "élan"],
      );
    });

    test("a change made by another replica shows here", {
      skip: engine.name === "SQLite" ? "one process per data folder" : postgresSkipReason,
    }, async () => {
      const replica = await openDatabase(configOf(engine), silent);
      try {
        const [movie] = await listAll(database);
        assert.ok(movie);
        await replica.movies.update(movie.id, { director: "Changed Elsewhere" });
        assert.equal((await listAll(database))[0]?.director, "Changed Elsewhere");
      } finally {
        await replica.close();
      }
    });
  });
}
