import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { allowedHosts, HostFilter, hostAllowed, hostOf } from "../../server/allowed-hosts.js";
import { ConfigError, loadConfig } from "../../server/config.js";

describe("allowed hosts (ALLOWED_HOSTS)", () => {
  const none = allowedHosts([]);
  const listed = allowedHosts(["api.example.com", "*.apps.example.com", "Shop.Example.ORG."]);

  test("loopback names and IP literals are always accepted, with or without a port", () => {
    for (const authority of [
      "localhost",
      "localhost:8080",
      "LOCALHOST.",
      "app.localhost:3000",
      "127.0.0.1",
      "127.0.0.1:8080",
      "127.9.9.9",
      "10.0.0.5:8080",
      "[::1]",
      "[::1]:8080",
      "[2001:db8::5]:443",
      "[::ffff:127.0.0.1]",
    ]) {
      assert.equal(hostAllowed(authority, none), true, authority);
    }
  });

  test("any other name is refused unless listed", () => {
    for (const authority of ["attacker.example", "attacker.example:8080", "localhost.attacker.example", "x", "0x7f.1", "localhost-x"]) {
      assert.equal(hostAllowed(authority, none), false, authority);
    }
  });

  test("listed names match exactly, case-insensitively, ignoring the port and a trailing dot", () => {
    for (const authority of ["api.example.com", "API.Example.Com:443", "api.example.com.", "shop.example.org:8080"]) {
      assert.equal(hostAllowed(authority, listed), true, authority);
    }
    for (const authority of ["example.com", "x.api.example.com", "api.example.com.attacker.example", "api-example.com"]) {
      assert.equal(hostAllowed(authority, listed), false, authority);
    }
  });

  test("*.example.com matches names under it at any depth, not the name itself", () => {
    assert.equal(hostAllowed("a.apps.example.com", listed), true);
    assert.equal(hostAllowed("b.a.apps.example.com:8443", listed), true);
    assert.equal(hostAllowed("apps.example.com", listed), false);
    assert.equal(hostAllowed("evilapps.example.com", listed), false);
  });

  test('"*" accepts every name', () => {
    assert.equal(hostAllowed("attacker.example:8080", allowedHosts(["*"])), true);
  });

  test("the filter remembers an accepted authority but never a refused one", () => {
    const filter = new HostFilter(["api.example.com"]);
    assert.equal(filter.allows("api.example.com"), true);
    assert.equal(filter.allows("api.example.com"), true);
    assert.equal(filter.allows("attacker.example"), false);
    assert.equal(filter.allows("attacker.example"), false);
  });

  test("hostOf drops the port but keeps IPv6 brackets", () => {
    assert.equal(hostOf("example.com:8080"), "example.com");
    assert.equal(hostOf("example.com"), "example.com");
    assert.equal(hostOf("[::1]:8080"), "[::1]");
    assert.equal(hostOf("[::1]"), "[::1]");
  });

  test("ALLOWED_HOSTS is read as a list and bad entries stop the start naming the variable", () => {
    assert.deepEqual(loadConfig({}, false).allowedHosts, []);
    assert.deepEqual(loadConfig({ ALLOWED_HOSTS: " api.example.com , *.example.org " }, false).allowedHosts, [
      "api.example.com",
      "*.example.org",
    ]);
    for (const bad of ["api.example.com:8080", "http://api.example.com", "a*.example.com", "*.*.example.com", "[::1]", "a b"]) {
      assert.throws(
        () => loadConfig({ ALLOWED_HOSTS: bad }, false),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith(`ALLOWED_HOSTS: "${bad}"`),
        bad,
      );
    }
  });
});
