import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadConfig } from "../../server/config.js";
import { trustedProxies } from "../../server/trusted-proxies.js";

describe("trusted proxies (TRUST_PROXY)", () => {
  const proxies = trustedProxies(["10.0.0.0/8", "192.168.1.5", "fd00::/8"]);

  test("a peer nobody trusts is the client, whatever X-Forwarded-For it sends", () => {
    assert.equal(proxies.clientAddress("203.0.113.7", "198.51.100.1"), "203.0.113.7");
    assert.equal(proxies.clientAddress("::ffff:203.0.113.7", "198.51.100.1"), "203.0.113.7");
    assert.equal(trustedProxies([]).clientAddress("10.1.2.3", "198.51.100.1"), "10.1.2.3");
  });

  test("behind trusted proxies: the right-most untrusted address", () => {
    assert.equal(proxies.clientAddress("10.1.2.3", "198.51.100.1"), "198.51.100.1");
    assert.equal(proxies.clientAddress("::ffff:10.1.2.3", "198.51.100.1"), "198.51.100.1", "IPv4-mapped peer");
    // A client that writes its own X-Forwarded-For cannot pick its address: the entries left of the first untrusted one are ignored.
    assert.equal(proxies.clientAddress("10.1.2.3", "1.1.1.1, 198.51.100.1, 192.168.1.5"), "198.51.100.1");
    assert.equal(proxies.clientAddress("fd12::1", "2001:db8::1, fd00::2"), "2001:db8::1");
    assert.equal(proxies.clientAddress("10.1.2.3", "[2001:db8::1]:4711"), "2001:db8::1", "bracketed with a port");
    assert.equal(proxies.clientAddress("10.1.2.3", "198.51.100.1:4711"), "198.51.100.1", "IPv4 with a port");
  });

  test("no header, or every hop trusted, or garbage: the last address known", () => {
    assert.equal(proxies.clientAddress("10.1.2.3", null), "10.1.2.3");
    assert.equal(proxies.clientAddress("10.1.2.3", ""), "10.1.2.3");
    assert.equal(proxies.clientAddress("10.1.2.3", "10.9.9.9, 192.168.1.5"), "10.9.9.9");
    assert.equal(proxies.clientAddress("10.1.2.3", "198.51.100.1, unknown"), "10.1.2.3");
    assert.equal(proxies.clientAddress("10.1.2.3", "unknown, 10.4.4.4"), "10.4.4.4");
    assert.equal(proxies.clientAddress(undefined, "198.51.100.1"), undefined);
  });

  test("TRUST_PROXY takes addresses and CIDR blocks, and names a bad entry in one line", () => {
    assert.deepEqual(loadConfig({}, false).trustProxy, []);
    assert.deepEqual(loadConfig({ TRUST_PROXY: " 10.0.0.0/8 , ::1" }, false).trustProxy, ["10.0.0.0/8", "::1"]);
    for (const bad of ["nginx", "10.0.0.0/33", "10.0.0.0/8/1", "::1/129", "10.0.0.0/x"]) {
      assert.throws(
        () => loadConfig({ TRUST_PROXY: bad }, false),
        new RegExp(`TRUST_PROXY: "${bad.replaceAll("/", "\\/")}" is not an IP address or CIDR block`),
      );
    }
  });
});
