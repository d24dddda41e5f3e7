import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { matchTemplate, parseTemplate, specificity } from "../../server/rest/path-template.js";

const values = (template: string, path: string) => {
  const bindings = matchTemplate(parseTemplate(template), path);
  if (bindings === undefined || typeof bindings === "string") return bindings;
  return Object.fromEntries(bindings.map(([variable, value]) => [variable.fieldPath.join("."), value]));
};

describe("path templates (google.api.http)", () => {
  test("literals, variables, nested field paths and verbs parse", () => {
    const template = parseTemplate("/v1/{name=shelves/*/books/*}:archive");
    assert.equal(template.verb, "archive");
    assert.deepEqual(
      template.segments.map((segment) => (segment.kind === "literal" ? segment.value : segment.kind)),
      ["v1", "shelves", "one", "books", "one"],
    );
    assert.deepEqual(template.variables, [{ fieldPath: ["name"], start: 1, count: 4 }]);
    assert.deepEqual(parseTemplate("/v1/shelves/{shelf.id}/books").variables, [{ fieldPath: ["shelf", "id"], start: 2, count: 1 }]);
    assert.equal(parseTemplate("/v1/orders:watch").verb, "watch");
    assert.equal(parseTemplate("/v1/orders").verb, undefined);
  });

  test("malformed templates are refused with the reason", () => {
    for (const [template, reason] of [
      ["v1/movies", /must start with "\/"/],
      ["/v1/{id", /unclosed/],
      ["/v1/{a={b}}", /nests a variable/],
      ["/v1/id}", /never opened/],
      ["/v1/{movie..id}", /invalid field path/],
      ["/v1/{id}/{id}", /binds the field "id" twice/],
      ["/v1/**/books", /"\*\*" before its last segment/],
      ["/v1/mo vies", /invalid segment/],
      ["/v1/movies:", /invalid verb/],
    ] as const) {
      assert.throws(() => parseTemplate(template), reason, template);
    }
  });

  test("a variable of one segment takes one non-empty segment, decoded whole", () => {
    assert.deepEqual(values("/v1/movies/{id}", "/v1/movies/abc"), { id: "abc" });
    assert.deepEqual(values("/v1/movies/{id}", "/v1/movies/a%2Fb%20c"), { id: "a/b c" });
    assert.deepEqual(values("/v1/movies/{id}", "/v1/movies/x:y"), { id: "x:y" }, "no verb in the template: a colon is the id's");
    assert.equal(values("/v1/movies/{id}", "/v1/movies/"), undefined);
    assert.equal(values("/v1/movies/{id}", "/v1/movies/a/b"), undefined);
    assert.equal(values("/v1/movies/{id}", "/v1/films/a"), undefined);
    assert.match(String(values("/v1/movies/{id}", "/v1/movies/%E0%A4%A")), /not valid percent-encoding/);
  });

  test("a resource name variable spans its segments and keeps %2F as it is", () => {
    assert.deepEqual(values("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books/2"), { name: "shelves/1/books/2" });
    assert.deepEqual(values("/v1/{name=shelves/*/books/*}", "/v1/shelves/a%20b/books/c%2fd"), { name: "shelves/a b/books/c%2fd" });
    assert.equal(values("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/authors/2"), undefined);
    assert.equal(values("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books"), undefined);
  });

  test("** takes the rest of the path, and nothing", () => {
    assert.deepEqual(values("/v1/files/{path=**}", "/v1/files/a/b/c"), { path: "a/b/c" });
    assert.deepEqual(values("/v1/files/{path=**}", "/v1/files"), { path: "" });
    assert.deepEqual(values("/v1/{name=files/**}:download", "/v1/files/a/b:download"), { name: "files/a/b" });
  });

  test("verbs must match exactly", () => {
    assert.deepEqual(values("/v1/orders:watch", "/v1/orders:watch"), {});
    assert.equal(values("/v1/orders:watch", "/v1/orders"), undefined);
    assert.equal(values("/v1/orders:watch", "/v1/orders:watchers"), undefined);
    assert.deepEqual(values("/v1/{name=shelves/*}:archive", "/v1/shelves/1:archive"), { name: "shelves/1" });
  });

  test("more literal segments are more specific, then a verb", () => {
    assert.ok(specificity(parseTemplate("/v1/movies/latest")) > specificity(parseTemplate("/v1/movies/{id}")));
    assert.ok(specificity(parseTemplate("/v1/orders:watch")) > specificity(parseTemplate("/v1/orders")));
    assert.ok(specificity(parseTemplate("/v1/files/{a=*}")) > specificity(parseTemplate("/v1/files/{a=**}")));
  });
});
