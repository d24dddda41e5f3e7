import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePathTemplate, segmentsPattern } from "../../tools/protoc-gen-openapi/path-template.js";

test("google.api.http path templates become OpenAPI paths, the variables named by their field paths", () => {
  assert.deepEqual(parsePathTemplate("/v1/movies/{id}"), { path: "/v1/movies/{id}", variables: [{ fieldPath: "id", segments: "*" }] });
  assert.deepEqual(parsePathTemplate("/v1/calculator:squareRoot"), { path: "/v1/calculator:squareRoot", variables: [] });
  assert.deepEqual(parsePathTemplate("/v1/{movie.id}/x/{name=shelves/*/books/**}:undelete"), {
    path: "/v1/{movie.id}/x/{name}:undelete",
    variables: [
      { fieldPath: "movie.id", segments: "*" },
      { fieldPath: "name", segments: "shelves/*/books/**" },
    ],
  });
  assert.equal(segmentsPattern("*"), undefined);
  assert.equal(segmentsPattern("shelves/*/books/**"), "^shelves/[^/]+/books/.*$");
});

test("templates OpenAPI cannot say are refused, not described wrongly", () => {
  assert.throws(() => parsePathTemplate("/v1/*/movies"), /a wildcard outside a variable/);
  assert.throws(() => parsePathTemplate("v1/movies"), /does not start with "\/"/);
  assert.throws(() => parsePathTemplate("/v1/{1d}"), /not a field path/);
});
