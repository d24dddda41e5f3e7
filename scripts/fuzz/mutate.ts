import type { Rng } from "./rng.js";

/** A mutation applied to bytes, with a short description for the report. */
export interface Mutated {
  readonly data: Buffer;
  readonly what: string;
}

/** Protobuf-shaped garbage: what a broken encoder or a hostile client sends. */
function protobufTrick(rng: Rng): Mutated {
  return rng.weighted<() => Mutated>([
    [() => ({ data: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x41]), what: "length-delimited field claiming 4 GiB" }), 1],
    [
      () => ({ data: Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), what: "varint of 11 bytes" }),
      1,
    ],
    [() => ({ data: Buffer.from([0x0e, 0x00]), what: "wire type 6" }), 1],
    [() => ({ data: Buffer.from([0x0f, 0x00]), what: "wire type 7" }), 1],
    [() => ({ data: Buffer.from([0x00, 0x01]), what: "field number 0" }), 1],
    [() => ({ data: Buffer.from([0xf8, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00]), what: "field number above 2^29" }), 1],
    [
      () => {
        const depth = rng.logInt(10, 20_000);
        return { data: Buffer.alloc(depth, 0x0b), what: `${depth} nested start-group tags` };
      },
      1,
    ],
    [() => ({ data: Buffer.from([0x0c]), what: "end-group without start" }), 1],
    [
      () => {
        const count = rng.logInt(100, 200_000);
        const field = Buffer.from([0xa0, 0x1f, 0x01]); // field 500 varint 1, unknown
        return { data: Buffer.concat(Array.from({ length: count }, () => field)), what: `${count} unknown varint fields` };
      },
      1,
    ],
    [() => ({ data: Buffer.from([0x0a, 0x02, 0xc3, 0x28]), what: "string field of invalid UTF-8" }), 1],
    [() => ({ data: Buffer.from([0x09, 0x00, 0x00]), what: "fixed64 cut short" }), 1],
  ])();
}

/** One random mutation of an encoded message (binary or JSON text). */
export function mutateBytes(rng: Rng, input: Buffer): Mutated {
  const data = Buffer.from(input);
  const at = () => rng.int(0, Math.max(0, data.length - 1));
  return rng.weighted<() => Mutated>([
    [
      () => {
        const flips = rng.int(1, 8);
        for (let i = 0; i < flips && data.length > 0; i++) {
          const position = at();
          data[position] = (data[position] ?? 0) ^ (1 << rng.int(0, 7));
        }
        return { data, what: `${flips} bit flip(s)` };
      },
      6,
    ],
    [
      () => {
        const position = at();
        data[position] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x0a, 0x22, 0x7b, 0x5c]);
        return { data, what: `byte ${position} set to an interesting value` };
      },
      3,
    ],
    [
      () => {
        const keep = rng.int(0, Math.max(0, data.length - 1));
        return { data: data.subarray(0, keep), what: `truncated to ${keep} of ${data.length} bytes` };
      },
      3,
    ],
    [
      () => {
        const position = rng.int(0, data.length);
        const extra = rng.bytes(rng.logInt(1, 64));
        return {
          data: Buffer.concat([data.subarray(0, position), extra, data.subarray(position)]),
          what: `${extra.length} random bytes inserted`,
        };
      },
      3,
    ],
    [
      () => {
        const start = at();
        const end = rng.int(start, data.length);
        return { data: Buffer.concat([data.subarray(0, start), data.subarray(end)]), what: `bytes ${start}..${end} deleted` };
      },
      2,
    ],
    [
      () => {
        const start = at();
        const end = rng.int(start, data.length);
        const copies = rng.logInt(1, 1000);
        const chunk = data.subarray(start, end);
        return {
          data: Buffer.concat([data, ...Array.from({ length: copies }, () => chunk)]),
          what: `bytes ${start}..${end} repeated ${copies} times`,
        };
      },
      2,
    ],
    [
      () => {
        const length = rng.logInt(1, 4096);
        return { data: rng.bytes(length), what: `${length} random bytes instead of the message` };
      },
      2,
    ],
    [
      () => {
        const trick = protobufTrick(rng);
        return rng.chance(0.5)
          ? { data: Buffer.concat([data, trick.data]), what: `appended: ${trick.what}` }
          : { data: trick.data, what: trick.what };
      },
      4,
    ],
  ])();
}

/** JSON that a JSON parser or the protobuf JSON mapping must refuse (or accept) without falling over. */
export function mutateJson(rng: Rng, json: Record<string, unknown>): Mutated {
  const keys = Object.keys(json);
  const someKey = keys.length > 0 ? rng.pick(keys) : "name";
  const text = (value: unknown, what: string): Mutated => ({ data: Buffer.from(JSON.stringify(value)), what });
  const raw = (value: string, what: string): Mutated => ({ data: Buffer.from(value), what });
  return rng.weighted<() => Mutated>([
    [
      () => {
        const depth = rng.logInt(10, 200_000);
        const open = rng.chance(0.5) ? "[" : '{"a":';
        const close = open === "[" ? "]" : "}";
        const balanced = rng.chance(0.8);
        return raw(
          `{"${someKey}":${open.repeat(depth)}1${balanced ? close.repeat(depth) : ""}}`,
          `value nested ${depth} deep${balanced ? "" : ", unclosed"}`,
        );
      },
      3,
    ],
    [
      () => {
        const value = rng.pick<unknown>([
          null,
          true,
          [],
          {},
          [1, 2],
          "1e400",
          1e300,
          -0,
          "NaN",
          "Infinity",
          "0x10",
          "",
          { nested: { deeper: [] } },
          2 ** 64,
          "18446744073709551616",
          "-9223372036854775809",
          "1.5",
          "\u0000",
        ]);
        return text({ ...json, [someKey]: value }, `${someKey} set to ${JSON.stringify(value)}`);
      },
      5,
    ],
    [
      () => {
        const key = rng.pick(["unknownField", "__proto__", "constructor", "prototype", "", "\u0000", someKey.toUpperCase(), "@type"]);
        return raw(
          `{${[...keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(json[k])}`), `${JSON.stringify(key)}:1`].join(",")}}`,
          `extra key ${JSON.stringify(key)}`,
        );
      },
      3,
    ],
    [() => raw(`{${JSON.stringify(someKey)}:1,${JSON.stringify(someKey)}:"two"}`, `duplicate key ${someKey}`), 2],
    [
      () =>
        raw(
          rng.pick([
            "",
            " ",
            "null",
            "[]",
            '"text"',
            "42",
            "true",
            "{",
            "}",
            '{"a"',
            "{'name':'single quotes'}",
            "{name: 1}",
            "\ufeff{}",
            "{}{}",
            "{,}",
            '{"a":1,}',
            "/* comment */ {}",
            "NaN",
          ]),
          "top-level JSON that is not one object",
        ),
      4,
    ],
    [
      () =>
        raw(
          `{${JSON.stringify(someKey)}:"${rng.pick(["\\ud800", "\\udfff\\ud800", "\\x41", "\\u00", "\\", "\\u0000", "\u0001raw control", "\\uZZZZ"])}"}`,
          "string with a bad escape or a lone surrogate",
        ),
      3,
    ],
    [
      () => ({
        data: Buffer.concat([Buffer.from(`{${JSON.stringify(someKey)}:"`), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]),
        what: "invalid UTF-8 in a string",
      }),
      2,
    ],
    [() => mutateBytes(rng, Buffer.from(JSON.stringify(json))), 6],
  ])();
}

/** A string large enough to cost a server something: repeated characters, text, or combining marks. */
export function hugeString(rng: Rng, maxBytes: number): { value: string; what: string } {
  const length = rng.logInt(10_000, maxBytes);
  return rng.weighted<() => { value: string; what: string }>([
    [() => ({ value: "A".repeat(length), what: `${length} × "A"` }), 3],
    [() => ({ value: "é".repeat(Math.floor(length / 2)), what: `${Math.floor(length / 2)} × "é"` }), 1],
    [() => ({ value: "e\u0301".repeat(Math.floor(length / 3)), what: `${Math.floor(length / 3)} × "e" + combining acute` }), 2],
    [() => ({ value: "👍🏽".repeat(Math.floor(length / 8)), what: `${Math.floor(length / 8)} × "👍🏽"` }), 2],
    [() => ({ value: `${" ".repeat(length - 1)}x`, what: `${length - 1} spaces and "x"` }), 1],
  ])();
}
