import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lifetimeExcess, span } from "../../server/auth/lifetime.js";
import { secretWeakness } from "../../server/secret-strength.js";

describe("shared secret strength", () => {
  test("random secrets, base64 or hex, and long passphrases pass", () => {
    for (const secret of [
      "q3Vx0mZ1k8rT2bQ9yWc4hN7sLp6fJd5gA1eU0iOaBc8=",
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "a test secret, at least 32 bytes long",
      `${"€".repeat(8)}abcdefgh`,
    ]) {
      assert.equal(secretWeakness(secret), undefined, secret);
    }
  });

  test("too short, too few different bytes, or a pattern repeated, is refused, saying which", () => {
    assert.equal(secretWeakness("hunter2"), "it is 7 bytes long");
    assert.equal(secretWeakness("a".repeat(32)), "it uses only 1 different byte value");
    assert.equal(secretWeakness("ab".repeat(40)), "it uses only 2 different byte values");
    assert.equal(secretWeakness("0123456789abcdef".repeat(2)), "it repeats a pattern of 16 bytes");
    assert.equal(secretWeakness("letmein!2".repeat(4)), "it repeats a pattern of 9 bytes");
    // Cut short at the end is still a repetition.
    assert.equal(secretWeakness("abcdefghij".repeat(4).slice(0, 35)), "it repeats a pattern of 10 bytes");
    // One repeated three-byte character: 33 bytes, 3 different values.
    assert.equal(secretWeakness("€".repeat(11)), "it uses only 3 different byte values");
  });

  test("the answer never contains the secret", () => {
    for (const secret of ["hunter2", "x".repeat(40), "passwordpasswordpasswordpassword"]) {
      assert.doesNotMatch(secretWeakness(secret) ?? "", new RegExp(secret.slice(0, 5)));
    }
  });
});

describe("token lifetime", () => {
  const now = 1_800_000_000;
  const day = 86_400;

  test("exp - iat within the maximum (plus the clock tolerance) passes", () => {
    assert.equal(lifetimeExcess({ iat: now, exp: now + day }, now, day, 30), undefined);
    assert.equal(lifetimeExcess({ iat: now - 3_600, exp: now + day - 3_600 }, now, day, 30), undefined);
    assert.equal(lifetimeExcess({ iat: now + 20, exp: now + 20 + day }, now, day, 30), undefined, "iat a little ahead");
    assert.equal(lifetimeExcess({}, now, day, 30), undefined, "no exp: refused elsewhere");
  });

  test("longer is refused with both spans", () => {
    assert.equal(
      lifetimeExcess({ iat: now, exp: now + 200 * 365.25 * day }, now, day, 30),
      "the bearer token lives longer than this server accepts (200 years, at most 24 h): ask for a shorter-lived one",
    );
    assert.match(lifetimeExcess({ iat: now, exp: now + day + 31 }, now, day, 30) ?? "", /lives longer/);
  });

  test("without iat, or with iat in the future, the life counts from now", () => {
    assert.match(lifetimeExcess({ exp: now + 2 * day }, now, day, 30) ?? "", /\(2 days, at most 24 h\)/);
    assert.equal(lifetimeExcess({ exp: now + 3_600 }, now, day, 30), undefined);
    assert.match(lifetimeExcess({ iat: now + 10 * day, exp: now + 11 * day }, now, day, 30) ?? "", /\(11 days, at most 24 h\)/);
  });

  test("spans read as a person would say them", () => {
    assert.equal(span(45), "45 s");
    assert.equal(span(90 * 60), "90 min");
    assert.equal(span(36 * 3_600), "36 h");
    assert.equal(span(30 * day), "30 days");
  });
});
