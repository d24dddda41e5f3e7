import assert from "node:assert/strict";
import { test } from "node:test";
import { callUrl } from "../../server/fast-path/call-url.js";

test("a call's URL is the one the URL parser writes", () => {
  const cases: [string, string, string][] = [
    ["http", "localhost:8080", "/calculator.v1.CalculatorService/SquareRoot"],
    ["http", "LOCALHOST:80", "/a/b"],
    ["https", "example.com:443", "/a?encoding=json&message=%7B%22number%22%3A4%7D&connect=v1"],
    ["http", "[0:0::1]:8080", "/x"],
    ["http", "127.0.0.1:8080", "/a/../b"],
    ["http", "127.0.0.1:8080", "/a/./b?c"],
    ["http", "127.0.0.1:8080", '/a?message={"n":1}'],
    ["http", "127.0.0.1:8080", "/a b"],
    ["http", "127.0.0.1:8080", "/a?x='y'"],
    ["http", "127.0.0.1:8080", "//host/x"],
    ["http", "example.com", "/%zz"],
    ["http", "example.com", "/a/%2e%2E/b"],
    ["http", "example.com", "/a/.%2e"],
    ["http", "example.com", "/a/..b/.c"],
  ];
  for (const [scheme, authority, target] of cases) {
    // Twice: the second call reuses the kept origin.
    for (let i = 0; i < 2; i++) {
      assert.equal(callUrl(scheme, authority, target), new URL(target, `${scheme}://${authority}`).toString(), `${authority} ${target}`);
    }
  }
});
