import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { Movie as TutorialMovie } from "../../gen/tutorial/movie/movie_pb.js";
import { rejection } from "../support/assert.js";
import { serversOnEachEngine } from "../support/database.js";
import { protocolCases } from "../support/server.js";

/** The tutorials' catalogue, in listing order (title ignoring case, then id). */
const seeded = [
  { id: "267eedb8-0f5d-42d5-8f43-72426b9fb3e6", title: "Creed", director: "Ryan Coogler", rating: 8.8 },
  { id: "39ab85e5-5e8e-4dc5-afea-65dc368bd7ab", title: "Spectre", director: "Sam Mendes", rating: 7.1 },
  { id: "276c79ec-a26a-40a6-b3d3-fb242a5947b6", title: "The Danish Girl", director: "Tom Hooper", rating: 5.3 },
  { id: "720d006c-3a57-4b6a-b18f-9b713b073f3c", title: "The Good Dinosaur", director: "Peter Sohn", rating: 7.4 },
  { id: "a8034f44-aee4-44cf-b32c-74cf452aaaae", title: "The Martian", director: "Ridley Scott", rating: 8.2 },
  { id: "96798c08-d19b-4986-a05d-7da856efb697", title: "The Night Before", director: "Jonathan Levine", rating: 7.4 },
  { id: "7daf7208-be4d-4944-a3ae-c1c2f516f3e6", title: "Victor Frankenstein", director: "Paul McGuigan", rating: 6.4 },
];

async function listAll(transport: Transport, filter: { titleContains?: string; directorContains?: string } = {}) {
  const movies = [];
  for await (const { movie } of createClient(MovieService, transport).listMovies(filter)) {
    assert.ok(movie, "every message carries a movie");
    movies.push(movie);
  }
  return movies;
}

for (const { engine, server } of await serversOnEachEngine((name) => `movies on ${name}`)) {
  const protocols = protocolCases(server.baseUrl);
  after(() => protocols.close());

  describe(`movies on ${engine.name}`, () => {
    test("the tutorials' seven movies are there on first start, in a stable order", async () => {
      const [grpc] = protocols.cases;
      assert.ok(grpc);
      assert.deepEqual(
        (await listAll(grpc.transport)).map(({ id, title, director, rating }) => ({ id, title, director, rating })),
        seeded,
      );
    });

    test("many GetMovie calls at once, for the same movie, others and none, each get their own answer", async () => {
      const [grpc] = protocols.cases;
      assert.ok(grpc);
      const movies = createClient(MovieService, grpc.transport);
      const ids = [...seeded.map((movie) => movie.id), "no-such-movie", ...seeded.map((movie) => movie.id).reverse()];
      const answers = await Promise.all(
        ids.map((id) =>
          movies.getMovie({ id }).then(
            ({ movie }) => movie?.title,
            (error: unknown) => (error instanceof ConnectError ? Code[error.code] : error),
          ),
        ),
      );
      const titles = seeded.map((movie) => movie.title);
      assert.deepEqual(answers, [...titles, "NotFound", ...titles.reverse()]);
    });

    for (const { name, get, transport } of protocols.cases) {
      test(name, async () => {
        const movies = createClient(MovieService, transport);

        // Reading
        const martian = await movies.getMovie({ id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" });
        assert.equal(martian.movie?.title, "The Martian");
        assert.equal(martian.movie?.rating, 8.2);
        const methodLogged = server.callLogs("/movie.v1.MovieService/GetMovie").at(-1)?.method;
        assert.equal(methodLogged, get ? "GET" : "POST");

        const unknown = await rejection(movies.getMovie({ id: "no-such-movie" }));
        assert.equal(unknown.code, Code.NotFound);
        assert.match(unknown.rawMessage, /no movie has id "no-such-movie"/);
        const empty = await rejection(movies.getMovie({ id: "" }));
        assert.equal(empty.code, Code.InvalidArgument);
        assert.match(empty.rawMessage, /^id is required/);

        // Filters are case-insensitive substrings.
        assert.deepEqual(
          (await listAll(transport, { titleContains: "THE " })).map((movie) => movie.title),
          ["The Danish Girl", "The Good Dinosaur", "The Martian", "The Night Before"],
        );
        assert.deepEqual(
          (await listAll(transport, { directorContains: "scott" })).map((movie) => movie.title),
          ["The Martian"],
        );
        assert.deepEqual(
          (await listAll(transport, { titleContains: "the", directorContains: "levine" })).map((movie) => movie.title),
          ["The Night Before"],
        );
        assert.deepEqual(await listAll(transport, { titleContains: "%" }), [], "% is text, not a wildcard");

        // Writing: each protocol uses its own movies and removes them.
        const created = (await movies.createMovie({ title: `  Arrival (${name})  `, director: "Denis Villeneuve", rating: 7.95 })).movie;
        assert.ok(created);
        assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(created.title, `Arrival (${name})`, "text is trimmed");
        assert.equal(created.rating, 8, "ratings keep one decimal place");
        assert.deepEqual((await movies.getMovie({ id: created.id })).movie, created);

        const chosenId = `dune-${name.replace(/\W+/g, "-").toLowerCase()}`;
        await movies.createMovie({ id: chosenId, title: "Dune", director: "Denis Villeneuve", rating: 8 });
        const duplicate = await rejection(movies.createMovie({ id: chosenId, title: "Dune", director: "David Lynch", rating: 6.3 }));
        assert.equal(duplicate.code, Code.AlreadyExists);
        assert.match(duplicate.rawMessage, new RegExp(`a movie with id "${chosenId}" already exists`));

        for (const [input, field, pattern] of [
          [{ title: "", director: "Someone", rating: 5 }, "title", /^title is required/],
          [{ title: "Untitled", director: "  ", rating: 5 }, "director", /^director is required/],
          [{ title: "x".repeat(201), director: "Someone", rating: 5 }, "title", /^title cannot be more than 200 characters, got 201/],
          [{ title: "Bad\u0000title", director: "Someone", rating: 5 }, "title", /^title must not contain control characters/],
          [{ title: "Too good", director: "Someone", rating: 10.5 }, "rating", /^rating must be from 0 to 10, got 10.5/],
          [{ title: "Too bad", director: "Someone", rating: -1 }, "rating", /^rating must be from 0 to 10, got -1/],
          [{ title: "Not a number", director: "Someone", rating: NaN }, "rating", /^rating must be from 0 to 10, got NaN/],
          [{ id: "has space", title: "Spaced", director: "Someone", rating: 5 }, "id", /^id must be 1 to 100 letters/],
        ] as const) {
          const invalid = await rejection(movies.createMovie(input));
          assert.equal(invalid.code, Code.InvalidArgument, `${field}: ${invalid.rawMessage}`);
          assert.match(invalid.rawMessage, pattern);
        }

        // A partial update changes only what is given.
        const rerated = (await movies.updateMovie({ id: chosenId, rating: 8.1 })).movie;
        assert.deepEqual({ ...rerated }, { ...(await movies.getMovie({ id: chosenId })).movie });
        assert.equal(rerated?.title, "Dune");
        assert.equal(rerated?.director, "Denis Villeneuve");
        assert.equal(rerated?.rating, 8.1);
        const retitled = (await movies.updateMovie({ id: chosenId, title: "Dune: Part One" })).movie;
        assert.equal(retitled?.title, "Dune: Part One");
        assert.equal(retitled?.rating, 8.1);
        assert.equal((await rejection(movies.updateMovie({ id: chosenId, title: "" }))).code, Code.InvalidArgument);
        assert.equal((await rejection(movies.updateMovie({ id: "no-such-movie", rating: 1 }))).code, Code.NotFound);

        // Deleting
        await movies.deleteMovie({ id: chosenId });
        await movies.deleteMovie({ id: created.id });
        assert.equal((await rejection(movies.getMovie({ id: chosenId }))).code, Code.NotFound);
        const again = await rejection(movies.deleteMovie({ id: chosenId }));
        assert.equal(again.code, Code.NotFound);
        assert.equal((await listAll(transport)).length, seeded.length);

        // The tutorial's contract reads the same catalogue.
        const tutorial = createClient(TutorialMovie, transport);
        const tutorialMartian = await tutorial.getMovieByID({ id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" });
        assert.deepEqual(
          { id: tutorialMartian.id, title: tutorialMartian.title, director: tutorialMartian.director, rating: tutorialMartian.rating },
          { id: "a8034f44-aee4-44cf-b32c-74cf452aaaae", title: "The Martian", director: "Ridley Scott", rating: Math.fround(8.2) },
        );
        const listed = [];
        for await (const movie of tutorial.getListMovies({})) listed.push(movie.title);
        assert.deepEqual(
          listed,
          seeded.map((movie) => movie.title),
        );
        const tutorialUnknown = await rejection(tutorial.getMovieByID({ id: "no-such-movie" }));
        assert.equal(tutorialUnknown.code, Code.NotFound);
      });
    }
  });
}
