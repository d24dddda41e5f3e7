import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, type DescMessage, type JsonValue, type MessageShape, toJson } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { FieldNames } from "../../server/rest/fields.js";
import { requestMessage } from "../../server/rest/request-message.js";
import { responseJson } from "../../server/rest/response-json.js";
import { RouteTable } from "../../server/rest/route-table.js";
import { guardedJsonOptions } from "../../server/wire/json-shape.js";
import { libraryService, tableOf } from "./rest-fixture.js";

const service = libraryService();
const table = new RouteTable([service], tableOf(service));
const names = new FieldNames();

/** The request message a REST request becomes, as JSON, or the error's message. */
function transcode(method: string, target: string, body?: JsonValue): JsonValue | string {
  const [path = "", query] = target.split("?", 2);
  const match = table.match(method, path);
  assert.equal(match.kind, "route", `${method} ${path}`);
  if (match.kind !== "route") return "";
  try {
    const message = requestMessage(
      match.route,
      match.bindings,
      query === undefined ? undefined : new URLSearchParams(query),
      body,
      names,
      guardedJsonOptions,
    );
    return toJson(match.route.entry.method.input, message);
  } catch (error) {
    return ConnectError.from(error).rawMessage;
  }
}

describe("a REST request's message", () => {
  test("a resource name from the path, other fields from the query", () => {
    assert.deepEqual(transcode("GET", "/v1/shelves/1/books/2?reason=audit"), { name: "shelves/1/books/2", reason: "audit" });
  });

  test("query parameters: both spellings, nested with dots, repeated by repetition, enums by name or number, bools, int64, well-known types", () => {
    assert.deepEqual(
      transcode(
        "GET",
        "/v1/books?shelf.id=7&shelf.theme=sea&tags=a&tags=b&published_after=2024-01-02T03:04:05Z&genre=GENRE_FICTION&available=true&minPages=9007199254740993&signed=false&genres=1&genres=GENRE_UNSPECIFIED",
      ),
      {
        shelf: { id: "7", theme: "sea" },
        tags: ["a", "b"],
        publishedAfter: "2024-01-02T03:04:05Z",
        genre: "GENRE_FICTION",
        available: true,
        minPages: "9007199254740993",
        signed: false,
        genres: ["GENRE_FICTION", "GENRE_UNSPECIFIED"],
      },
    );
    assert.deepEqual(transcode("GET", "/v1/books?publishedAfter=2024-01-02T03:04:05Z&min_pages=3"), {
      publishedAfter: "2024-01-02T03:04:05Z",
      minPages: "3",
    });
    assert.deepEqual(transcode("GET", "/v1/books?tags=%F0%9F%93%9A+x"), { tags: ["📚 x"] }, "form-encoded: + is a space");
  });

  test("a nested path field and the query fill the same message", () => {
    assert.deepEqual(transcode("GET", "/v1/shelves/7/books?shelf.theme=sea"), { shelf: { id: "7", theme: "sea" } });
    assert.match(String(transcode("GET", "/v1/shelves/7/books?shelf.id=8")), /sets shelf\.id, which the path already sets/);
  });

  test("body: a field, with the path inside it and the rest in the query", () => {
    assert.deepEqual(transcode("PATCH", "/v1/shelves/1/books/2?force=true", { title: "Dune" }), {
      book: { name: "shelves/1/books/2", title: "Dune" },
      force: true,
    });
    assert.deepEqual(transcode("PATCH", "/v1/shelves/1/books/2", { name: "shelves/1/books/2" }), { book: { name: "shelves/1/books/2" } });
    assert.match(
      String(transcode("PATCH", "/v1/shelves/1/books/2", { name: "shelves/9/books/9" })),
      /in the path and something else in the body/,
    );
    assert.match(String(transcode("PATCH", "/v1/shelves/1/books/2?book.title=x", {})), /takes from the body/);
  });

  test('body "*": every field but the path\'s, and no query', () => {
    assert.deepEqual(transcode("POST", "/v1/shelves/1/books/2:archive", { reason: "old" }), { name: "shelves/1/books/2", reason: "old" });
    assert.deepEqual(
      transcode("POST", "/v1/shelves/1/books/2:archive"),
      { name: "shelves/1/books/2" },
      "an empty body is an empty message",
    );
    assert.match(String(transcode("POST", "/v1/shelves/1/books/2:archive?reason=x", {})), /takes from the body/);
    assert.match(String(transcode("POST", "/v1/shelves/1/books/2:archive", [])), /must be a JSON object/);
    assert.match(String(transcode("POST", "/v1/shelves/1/books/2:archive", { reason: 5 })), /field reason/);
    assert.match(String(transcode("POST", "/v1/shelves/1/books/2:archive", { unknown: 1 })), /"unknown" is unknown/);
  });

  test("what the query cannot say is INVALID_ARGUMENT naming the parameter", () => {
    const refused = (target: string, reason: RegExp) => assert.match(String(transcode("GET", target)), reason, target);
    refused("/v1/books?nope=1", /unknown query parameter "nope": GET \/v1\/books takes the query parameters shelf, tags,/);
    refused("/v1/books?shelf.nope=1", /unknown query parameter "shelf\.nope"/);
    refused("/v1/books?shelf=x", /names a message field; set its fields one by one/);
    refused("/v1/books?labels=x", /names a map field/);
    refused("/v1/books?labels.key=x", /unknown query parameter/);
    refused("/v1/books?available=yes", /"available" is not a valid available: expected boolean/);
    refused("/v1/books?minPages=1.5", /not a valid min_pages/);
    refused("/v1/books?genre=GENRE_NONE", /not a valid genre/);
    refused("/v1/books?published_after=yesterday", /not a valid published_after/);
    refused("/v1/books?available=true&available=false", /sets available more than once/);
    refused("/v1/books?shelf.id=1&shelf.id=2", /sets shelf\.id more than once/);
    refused(`/v1/books?${Array.from({ length: 101 }, (_, i) => `tags=${i}`).join("&")}`, /more than 100 parameters/);
  });

  test("response_body: only that field is the answer", () => {
    const match = table.match("GET", "/v1/shelves/7/books");
    assert.ok(match.kind === "route");
    const output = match.route.entry.method.output;
    const empty = create(output) as MessageShape<DescMessage>;
    assert.equal(responseJson(match.route, empty, {}), "[]", "a repeated field, even empty");
    const additional = table.match("GET", "/v1/books");
    assert.ok(additional.kind === "route");
    assert.equal(responseJson(additional.route, empty, {}), "{}", "an additional binding has a response_body of its own (none here)");
  });
});
