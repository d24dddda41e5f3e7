import assert from "node:assert/strict";
import { test } from "node:test";
import { addressBucket, callerKey } from "../../server/rate-limit/caller.js";

test("a verified caller spends its own budget, wherever it calls from", () => {
  const alice = { subject: "alice", scopes: new Set<string>() };
  assert.equal(callerKey(alice, "127.0.0.1"), "sub:alice");
  assert.equal(callerKey(alice, "10.0.0.9"), "sub:alice");
  const long = callerKey({ subject: "x".repeat(500), scopes: new Set() }, undefined);
  assert.ok(long.startsWith("sub:") && long.length < 100, "long subjects are hashed to fit the store's key column");
});

test("anonymous callers spend their address's budget", () => {
  assert.equal(callerKey(undefined, "192.0.2.7"), "addr:192.0.2.7");
  assert.equal(callerKey(undefined, undefined), "addr:unknown");
});

test("IPv4-mapped addresses count as IPv4; other IPv6 addresses count per /64", () => {
  assert.equal(addressBucket("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(addressBucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  assert.equal(addressBucket("2001:0db8:0001:0002::1"), "2001:db8:1:2::/64", "same /64, written differently");
  assert.equal(addressBucket("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(addressBucket("::1"), "0:0:0:0::/64");
  assert.equal(addressBucket("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(addressBucket("64:ff9b::192.0.2.7"), "64:ff9b:0:0::/64");
});
