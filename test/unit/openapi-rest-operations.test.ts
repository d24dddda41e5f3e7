import assert from "node:assert/strict";
import { test } from "node:test";
import { http } from "../../gen/google/api/annotations_pb.js";
import { openApiDocument } from "../../tools/protoc-gen-openapi/document.js";
import type { Document, Parameter, Reference, Response } from "../../tools/protoc-gen-openapi/openapi.js";
import { assertValidOpenApi } from "../support/openapi.js";
import { libraryService } from "./rest-fixture.js";

// The canonical contracts use plain `{id}` paths and `body: "*"`. The REST
// tests' library contract, built in code, has what they do not: resource
// names with slashes, nested path fields, a body field, response_body,
// additional bindings, a custom verb, nested, repeated, enum, int64, map
// and well-known query values. The transcoder serves it; this describes it.

const describe = (options: Parameters<typeof libraryService>[0] = {}): Document =>
  openApiDocument([libraryService(options)], { title: "library", version: "v1", httpOption: http });

/** A parameter's fields, or only the reference's for a reference. */
const spelled = (parameter: Parameter | Reference): Partial<Parameter> & { $ref?: string } => parameter;
const contentOf = (response: Response | Reference | undefined) =>
  response === undefined || "$ref" in response ? undefined : response.content;

test("resource names, nested path fields, a body field and response_body become the paths, parameters and bodies they mean", async () => {
  const document = describe();
  await assertValidOpenApi(document);
  assert.deepEqual(
    Object.entries(document.paths)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, item]) => Object.keys(item).map((verb) => `${verb.toUpperCase()} ${path}`)),
    [
      "GET /v1/{name}",
      "GET /v1/shelves/{shelf.id}/books",
      "GET /v1/books",
      "PATCH /v1/{book.name}",
      "POST /v1/{name}:archive",
      "GET /v1/books:watch",
    ],
  );

  const get = document.paths["/v1/{name}"]?.get;
  assert.deepEqual(get?.parameters?.map(spelled)[0], {
    name: "name",
    in: "path",
    description: "Matches `shelves/*/books/*`; its slashes are sent as they are.",
    schema: { type: "string", pattern: "^shelves/[^/]+/books/[^/]+$" },
    required: true,
  });

  const patch = document.paths["/v1/{book.name}"]?.patch;
  assert.deepEqual(patch?.requestBody, {
    required: true,
    content: { "application/json": { schema: { $ref: "#/components/schemas/test.v1.Book" } } },
  });
  assert.deepEqual(
    patch?.parameters?.map(spelled).map((parameter) => parameter.name ?? parameter.$ref),
    ["book.name", "force", "#/components/parameters/Timeout"],
    "the body field's path-bound part is in the path, the other fields in the query",
  );
  const archive = document.paths["/v1/{name}:archive"]?.post;
  assert.deepEqual(archive?.requestBody?.content["application/json"]?.schema, {
    description: "GetBookRequest without `name`, which the path carries.",
    type: "object",
    properties: { reason: { type: "string" } },
  });

  const list = document.paths["/v1/shelves/{shelf.id}/books"]?.get;
  assert.deepEqual(
    list?.parameters?.map(spelled).map((parameter) => [parameter.name, parameter.in, parameter.schema, parameter.explode]),
    [
      ["shelf.id", "path", { type: "string" }, undefined],
      ["shelf.theme", "query", { type: "string" }, undefined],
      ["tags", "query", { type: "array", items: { type: "string" } }, true],
      ["publishedAfter", "query", { type: "string", format: "date-time" }, undefined],
      ["genre", "query", { $ref: "#/components/schemas/test.v1.Genre" }, undefined],
      ["available", "query", { type: "boolean" }, undefined],
      ["minPages", "query", { type: "string", format: "int64", pattern: "^-?[0-9]+$" }, undefined],
      ["signed", "query", { type: "boolean" }, undefined],
      ["genres", "query", { type: "array", items: { $ref: "#/components/schemas/test.v1.Genre" } }, true],
      [undefined, undefined, undefined, undefined],
    ],
    "path fields' siblings, lists, Timestamp and wrappers as single values; the map is left out",
  );
  assert.equal(document.paths["/v1/books"]?.get?.operationId, "test.v1.LibraryService.ListBooks.binding1");
  assert.deepEqual(contentOf(list?.responses["200"])?.["application/json"]?.schema, {
    type: "array",
    items: { $ref: "#/components/schemas/test.v1.Book" },
  });
  const watch = contentOf(document.paths["/v1/books:watch"]?.get?.responses["200"]);
  assert.deepEqual(Object.keys(watch ?? {}), ["application/json", "application/x-ndjson", "text/event-stream"]);
});

test("two routes on one method and path, or a route OpenAPI cannot say, stop the generator", () => {
  const twice = { GetBook: { pattern: { case: "get", value: "/v1/books:watch" } } } as const;
  assert.throws(() => describe({ rules: twice }), /GET \/v1\/books:watch is declared twice/);
  assert.throws(() => describe({ rules: { GetBook: { pattern: { case: "get", value: "/v1/*/{name}" } } } }), /wildcard outside a variable/);
  assert.throws(() => describe({ rules: { GetBook: { pattern: { case: "get", value: "/v1/{title}" } } } }), /has no field "title"/);
});
