import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type RestAnswer, RestClient } from "../support/rest.js";
import { startTestServer } from "../support/server.js";

// Every REST route of the contracts (google.api.http), over HTTP/1.1 and
// HTTP/2 with raw requests, as curl sends them: the server started the
// project's one way, on a fresh in-memory database.

interface Movie {
  readonly id: string;
  readonly title: string;
  readonly director: string;
  readonly rating?: number;
}
interface Order {
  readonly id: string;
  readonly name: string;
  readonly completed?: boolean;
  readonly etag: string;
  readonly createTime: string;
}
interface Status {
  readonly code: number;
  readonly message: string;
  readonly details?: ReadonlyArray<Record<string, unknown>>;
}

const server = await startTestServer();
after(() => server.shutdown());

function ok(answer: RestAnswer, status = 200): RestAnswer {
  assert.equal(answer.status, status, answer.text);
  assert.match(String(answer.headers["content-type"]), /^application\/json/);
  assert.match(String(answer.headers["x-request-id"]), /^[\w-]+$/, "every answer names its request");
  return answer;
}

for (const version of ["1.1", "2"] as const) {
  describe(`REST routes over HTTP/${version}`, () => {
    const client = new RestClient(server.port, version);
    after(() => client.close());

    test("calculator: custom methods by GET (query) and POST (body), each one", async () => {
      assert.deepEqual(ok(await client.get("/v1/calculator:squareRoot?number=2")).json(), { result: Math.SQRT2 });
      for (const [verb, result] of [
        ["add", 9],
        ["subtract", 5],
        ["multiply", 14],
        ["divide", 3.5],
      ] as const) {
        assert.deepEqual(ok(await client.get(`/v1/calculator:${verb}?a=7&b=2`)).json(), { result }, verb);
        assert.deepEqual(
          ok(await client.request(`/v1/calculator:${verb}`, { method: "POST", body: { a: 7, b: 2 } })).json(),
          { result },
          verb,
        );
      }
      const cached = ok(await client.get("/v1/calculator:squareRoot?number=16"));
      assert.equal(
        cached.headers["cache-control"],
        "public, max-age=31536000, immutable",
        "the method table's immutable answers may be cached",
      );
      const revalidated = await client.get("/v1/calculator:squareRoot?number=16", { "if-none-match": String(cached.headers.etag) });
      assert.equal(revalidated.status, 304);
      assert.equal(revalidated.text, "");
    });

    test("greeter: sayHello and sayHelloAgain by POST and GET, lotsOfReplies as a JSON array", async () => {
      assert.deepEqual(ok(await client.request("/v1/greeter:sayHello", { method: "POST", body: { name: "Ada" } })).json(), {
        message: "Hello, Ada!",
      });
      assert.deepEqual(ok(await client.get("/v1/greeter:sayHello?name=Ada")).json(), { message: "Hello, Ada!" });
      assert.deepEqual(ok(await client.request("/v1/greeter:sayHelloAgain", { method: "POST", body: { name: "Ada" } })).json(), {
        message: "Hello again, Ada!",
      });
      assert.deepEqual(ok(await client.get("/v1/greeter:sayHelloAgain?name=Ada")).json(), { message: "Hello again, Ada!" });
      const replies = ok(await client.get("/v1/greeter:lotsOfReplies?name=Ada")).json<Array<{ language: string }>>();
      assert.deepEqual(
        replies.map((reply) => reply.language),
        ["en", "fr", "es", "de", "ja", "ko", "ru"],
      );
      const posted = ok(await client.request("/v1/greeter:lotsOfReplies", { method: "POST", body: { name: "Ada", delayMs: 1 } }));
      assert.equal(posted.json<unknown[]>().length, 7);
    });

    test("movies: list with filters in either spelling, create, get, update, delete", async () => {
      const all = ok(await client.get("/v1/movies")).json<Movie[]>();
      assert.ok(all.length >= 7, "the tutorial's movies, as an array of movies (response_body)");
      for (const filter of ["title_contains=mar", "titleContains=mar", "title_contains=MAR&director_contains=scott"]) {
        const found = ok(await client.get(`/v1/movies?${filter}`)).json<Movie[]>();
        assert.deepEqual(
          found.map((movie) => movie.title),
          ["The Martian"],
          filter,
        );
      }
      const id = `rest-${version.replace(".", "")}-${Date.now()}`;
      const created = ok(
        await client.request("/v1/movies", { method: "POST", body: { id, title: "Arrival", director: "Denis Villeneuve", rating: 7.9 } }),
      ).json<Movie>();
      assert.deepEqual(created, { id, title: "Arrival", director: "Denis Villeneuve", rating: 7.9 });
      assert.deepEqual(ok(await client.get(`/v1/movies/${id}`)).json(), created);
      const updated = ok(await client.request(`/v1/movies/${id}`, { method: "PATCH", body: { rating: 8.1 } })).json<Movie>();
      assert.deepEqual(updated, { ...created, rating: 8.1 });
      assert.deepEqual(ok(await client.request(`/v1/movies/${id}`, { method: "DELETE" })).json(), {});
      const gone = await client.get(`/v1/movies/${id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.json<Status>().code, 5);
    });

    test("orders: create, get, list a page at a time, update with the etag, delete", async () => {
      const names = ["tea", "coffee", "cocoa"].map((name) => `${name} ${version}`);
      const created: Order[] = [];
      for (const name of names) created.push(ok(await client.request("/v1/orders", { method: "POST", body: { name } })).json<Order>());
      const [first] = created;
      assert.ok(first);
      assert.equal(first.name, names[0]);
      assert.match(first.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(ok(await client.get(`/v1/orders/${first.id}`)).json(), first);

      // Paging: page_size and page_token as query parameters, in either spelling.
      const seen: string[] = [];
      let token = "";
      for (let pages = 0; pages < 100; pages++) {
        const query = pages % 2 === 0 ? `page_size=2&page_token=${token}` : `pageSize=2&pageToken=${token}`;
        const page = ok(await client.get(`/v1/orders?${query}`)).json<{ orders?: Order[]; nextPageToken?: string }>();
        seen.push(...(page.orders ?? []).map((order) => order.id));
        if (page.nextPageToken === undefined) break;
        token = encodeURIComponent(page.nextPageToken);
      }
      for (const order of created) assert.ok(seen.includes(order.id), "every order is on some page");
      assert.deepEqual(ok(await client.get("/v1/orders?completed=true&page_size=500")).json<{ orders?: Order[] }>().orders ?? [], []);

      const updated = ok(
        await client.request(`/v1/orders/${first.id}`, { method: "PATCH", body: { completed: true, etag: first.etag } }),
      ).json<Order>();
      assert.equal(updated.completed, true);
      assert.notEqual(updated.etag, first.etag);
      const stale = await client.request(`/v1/orders/${first.id}`, { method: "PATCH", body: { name: "stale", etag: first.etag } });
      assert.equal(stale.status, 409, "ABORTED: the order changed since that etag");
      assert.equal(stale.json<Status>().code, 10);
      for (const order of created) {
        assert.deepEqual(
          ok(
            await client.request(`/v1/orders/${order.id}?etag=${order === first ? updated.etag : order.etag}`, { method: "DELETE" }),
          ).json(),
          {},
        );
      }
      assert.equal((await client.get(`/v1/orders/${first.id}`)).status, 404);
    });

    test("a path variable and the body may agree; they may not differ", async () => {
      const id = "a8034f44-aee4-44cf-b32c-74cf452aaaae";
      const same = await client.request(`/v1/movies/${id}`, { method: "PATCH", body: { id, rating: 8.2 } });
      ok(same);
      const different = await client.request(`/v1/movies/${id}`, { method: "PATCH", body: { id: "other", rating: 8.2 } });
      assert.equal(different.status, 400);
      assert.match(different.json<Status>().message, /in the path and something else in the body/);
    });
  });
}
