import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Instant, parseInstant } from "../../server/domain/instant.js";

/** The instant `text` parses to, as RFC 3339 (or "refused"). */
function read(text: string): string {
  return parseInstant(text)?.toString() ?? "refused";
}

describe("parseInstant", () => {
  test("RFC 3339: T, t or a space; any number of fraction digits; Z or an offset", () => {
    const cases: Array<[string, string]> = [
      ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z"],
      ["2024-05-01t12:00:00z", "2024-05-01T12:00:00.000Z"],
      ["2024-05-01 12:00:00Z", "2024-05-01T12:00:00.000Z"],
      ["2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00.500Z"],
      ["2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00.123Z"],
      ["2024-05-01T12:00:00.1234Z", "2024-05-01T12:00:00.123400Z"],
      ["2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456Z"],
      ["2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00.123456Z"],
      ["2024-05-01T12:00:00.000000000000000001Z", "2024-05-01T12:00:00.000Z"],
      ["2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000Z"],
      ["2024-05-01T12:00:00.000001-05:30", "2024-05-01T17:30:00.000001Z"],
      ["2024-05-01T00:30:00+01:00", "2024-04-30T23:30:00.000Z"],
      ["2024-05-01T12:00:00-00:00", "2024-05-01T12:00:00.000Z"],
      ["2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000Z"],
    ];
    for (const [text, expected] of cases) assert.equal(read(text), expected, text);
  });

  test("Python's str(datetime) and isoformat(), naive or aware, with or without microseconds, with the tutorial's Z", () => {
    const cases: Array<[string, string]> = [
      // f"{datetime.utcnow()}Z", what the order tutorial's client sends
      ["2026-11-30 08:44:59.123456Z", "2026-11-30T08:44:59.123456Z"],
      ["2026-11-30 08:44:59Z", "2026-11-30T08:44:59.000Z"],
      // str(datetime.utcnow()), str(datetime.now(timezone.utc)), str() of another offset
      ["2026-11-30 08:44:59.123456", "2026-11-30T08:44:59.123456Z"],
      ["2026-11-30 08:44:59", "2026-11-30T08:44:59.000Z"],
      ["2026-11-30 08:44:59.123456+00:00", "2026-11-30T08:44:59.123456Z"],
      ["2026-11-30 10:44:59.000100+02:00", "2026-11-30T08:44:59.000100Z"],
      // f"{datetime.now(timezone.utc)}Z"
      ["2026-11-30 08:44:59.123456+00:00Z", "2026-11-30T08:44:59.123456Z"],
      // isoformat(), also with timespec and an offset with seconds
      ["2026-11-30T08:44:59.123456", "2026-11-30T08:44:59.123456Z"],
      ["2026-11-30T08:44:59", "2026-11-30T08:44:59.000Z"],
      ["2026-11-30T08:44:59.123456+00:00", "2026-11-30T08:44:59.123456Z"],
      ["2026-11-30T08:44", "2026-11-30T08:44:00.000Z"],
      ["2026-11-30T08:44:59.123", "2026-11-30T08:44:59.123Z"],
      ["2026-11-30T08:44:59+05:30:15", "2026-11-30T03:14:44.000Z"],
      // ISO 8601 forms accepted before
      ["2026-11-30T08:44:59+0530", "2026-11-30T03:14:59.000Z"],
      ["2026-11-30T08:44:59+05", "2026-11-30T03:44:59.000Z"],
    ];
    for (const [text, expected] of cases) assert.equal(read(text), expected, text);
  });

  test("a plain date is its midnight in UTC; the whole range of Timestamp", () => {
    assert.equal(read("2024-05-01"), "2024-05-01T00:00:00.000Z");
    assert.equal(read("0001-01-01"), "0001-01-01T00:00:00.000Z");
    assert.equal(read("0099-03-01T00:00:00Z"), "0099-03-01T00:00:00.000Z", "years below 100 are not 19xx");
    assert.equal(read("9999-12-31T23:59:59.999999Z"), "9999-12-31T23:59:59.999999Z");
    assert.equal(read("2024-02-29"), "2024-02-29T00:00:00.000Z");
    assert.equal(read("2000-02-29"), "2000-02-29T00:00:00.000Z");
  });

  test("anything else is not a date", () => {
    for (const text of [
      "",
      "yesterday",
      "2024-05-01T",
      "2024-05-01T12",
      "2024-5-1",
      "20240501",
      "2024-05-01T12:00:00ZZ",
      "2024-05-01T12:00:00.Z",
      "2024-05-01T12:00:00+2:00",
      "2024-05-01T12:00:00+02:00+01:00",
      "2024-05-01T12:00:00+02:00Z",
      "2024-05-01T12:00:00 +02:00",
      " 2024-05-01",
      "2024-13-01",
      "2024-00-10",
      "2024-04-31",
      "2023-02-29",
      "1900-02-29",
      "2024-05-01T24:00:00Z",
      "2024-05-01T12:60:00Z",
      "2024-05-01T12:00:61Z",
      "2024-05-01T12:00:00+24:00",
      "2024-05-01T12:00:00+02:60",
      "２０２４-05-01",
      "2024-05-01T12:00:00Z\n",
    ]) {
      assert.equal(parseInstant(text), undefined, JSON.stringify(text));
    }
  });
});

describe("Instant", () => {
  test("Timestamps: microseconds kept, nanoseconds below them dropped, before 1970 too", () => {
    const instant = Instant.fromSecondsAndNanos(-1n, 999_999_999);
    assert.equal(instant.epochMicros, -1n);
    assert.deepEqual(instant.toSecondsAndNanos(), { seconds: -1n, nanos: 999_999_000 });
    assert.equal(instant.toString(), "1969-12-31T23:59:59.999999Z");
    assert.deepEqual(Instant.fromEpochMicros(-1_500_000n).toSecondsAndNanos(), { seconds: -2n, nanos: 500_000_000 });
    assert.equal(Instant.fromEpochMicros(-1_500_000n).epochMillis, -1500);
    assert.equal(Instant.fromEpochMicros(-1n).epochMillis, -1);
  });

  test("written as JavaScript writes a Date when it falls on a millisecond, else with six digits", () => {
    const date = new Date("2024-05-01T12:00:00.120Z");
    assert.equal(Instant.fromDate(date).toString(), date.toISOString());
    assert.equal(Instant.fromEpochMicros(Instant.fromDate(date).epochMicros + 5n).toString(), "2024-05-01T12:00:00.120005Z");
    assert.equal(JSON.stringify({ at: Instant.fromDate(date) }), `{"at":"2024-05-01T12:00:00.120Z"}`);
  });

  test("compares by instant", () => {
    const a = parseInstant("2024-05-01T12:00:00.000001Z");
    const b = parseInstant("2024-05-01T14:00:00.000001+02:00");
    const c = parseInstant("2024-05-01T12:00:00.000002Z");
    assert.ok(a && b && c);
    assert.equal(a.compare(b), 0);
    assert.equal(a.compare(c), -1);
    assert.equal(c.compare(a), 1);
  });
});
