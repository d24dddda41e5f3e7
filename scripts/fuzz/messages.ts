import { create, type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { Rng } from "./rng.js";

/**
 * Random messages that are valid for their schema (they encode to binary and
 * JSON), with values that sometimes pass the server's rules and sometimes
 * break them: short and long names, UUIDs, NaN, boundaries.
 */
export function randomMessage(rng: Rng, schema: DescMessage, depth = 0): Message {
  const message = reflect(schema);
  fill(rng, message, depth);
  return message.message;
}

/** A seeded movie (so GetMovie finds something) and an id no order has. */
const knownIds = ["a8034f44-aee4-44cf-b32c-74cf452aaaae", "00000000-0000-4000-8000-000000000000"];

const shortNames = ["Ada", "Bob", "なんしー", "Zoë", "👍🏽", "O'Brien", "a", " Ada ", "Bartholomew", "x".repeat(10)];

function fill(rng: Rng, message: ReflectMessage, depth: number): void {
  const oneofsDone = new Set<string>();
  for (const field of message.fields) {
    if (field.oneof !== undefined) {
      if (oneofsDone.has(field.oneof.name)) continue;
      oneofsDone.add(field.oneof.name);
      const chosen = rng.chance(0.85) ? rng.pick(field.oneof.fields) : undefined;
      if (chosen !== undefined) setField(rng, message, chosen, depth);
      continue;
    }
    if (rng.chance(0.25)) continue; // leave some fields at their defaults
    setField(rng, message, field, depth);
  }
}

function setField(rng: Rng, message: ReflectMessage, field: DescField, depth: number): void {
  switch (field.fieldKind) {
    case "scalar":
      message.set(field, scalarValue(rng, field.scalar, field.name));
      return;
    case "enum":
      message.set(field, rng.chance(0.9) ? rng.pick(field.enum.values).number : rng.int(-3, 100));
      return;
    case "message":
      if (depth >= 3) return;
      message.set(field, reflect(field.message, messageValue(rng, field.message, depth + 1)));
      return;
    case "list": {
      const list = message.get(field);
      const count = depth >= 2 ? 0 : rng.int(0, 3);
      for (let i = 0; i < count; i++) {
        if (field.listKind === "scalar") list.add(scalarValue(rng, field.scalar, field.name));
        else if (field.listKind === "enum") list.add(rng.pick(field.enum.values).number);
        else list.add(reflect(field.message, messageValue(rng, field.message, depth + 1)));
      }
      return;
    }
    case "map": {
      const map = message.get(field);
      const count = depth >= 2 ? 0 : rng.int(0, 2);
      for (let i = 0; i < count; i++) {
        const key = scalarValue(rng, field.mapKey, "key");
        if (field.mapKind === "scalar") map.set(key, scalarValue(rng, field.scalar, field.name));
        else if (field.mapKind === "enum") map.set(key, rng.pick(field.enum.values).number);
        else map.set(key, reflect(field.message, messageValue(rng, field.message, depth + 1)));
      }
      return;
    }
  }
}

/** Timestamps and durations within the range their JSON form allows; any other message at random. */
function messageValue(rng: Rng, schema: DescMessage, depth: number): Message {
  if (schema.typeName === "google.protobuf.Timestamp" || schema.typeName === "google.protobuf.Duration") {
    const timestamp = schema.typeName === "google.protobuf.Timestamp";
    const seconds = timestamp
      ? rng.weighted<number>([
          [rng.int(1_600_000_000, 1_900_000_000), 6],
          [-62_135_596_800, 1],
          [253_402_300_799, 1],
          [0, 1],
        ])
      : rng.int(-315_576_000_000, 315_576_000_000);
    const nanos = rng.int(0, 999_999_999) * (!timestamp && seconds < 0 ? -1 : 1);
    return create(schema, { seconds: BigInt(seconds), nanos } as never);
  }
  return randomMessage(rng, schema, depth);
}

/** A value of a scalar type, chosen with the field's name in mind. */
export function scalarValue(rng: Rng, type: ScalarType, fieldName: string): string | number | bigint | boolean | Uint8Array {
  switch (type) {
    case ScalarType.STRING:
      return stringValue(rng, fieldName);
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.BYTES:
      return rng.bytes(rng.logInt(0, 64));
    case ScalarType.FLOAT:
      return rng.weighted<number>([
        [rng.int(-10, 100), 5],
        [Math.fround(rng.float() * 1000 - 100), 3],
        [0, 2],
        [Number.NaN, 1],
        [Number.POSITIVE_INFINITY, 1],
        [Number.NEGATIVE_INFINITY, 1],
        [3.4e38, 1],
        [-3.4e38, 1],
        [1.4e-45, 1],
      ]);
    case ScalarType.DOUBLE:
      return rng.weighted<number>([
        [rng.int(-10, 100), 5],
        [rng.float() * 1000 - 100, 3],
        [0, 2],
        [-0, 1],
        [Number.NaN, 1],
        [Number.POSITIVE_INFINITY, 1],
        [Number.NEGATIVE_INFINITY, 1],
        [1e308, 1],
        [-1e308, 1],
        [5e-324, 1],
        [Number.MAX_VALUE, 1],
      ]);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return rng.weighted<number>([
        [rng.int(0, 10), 6],
        [rng.int(-5, 600), 3],
        [2_147_483_647, 1],
        [-2_147_483_648, 1],
        [-1, 1],
      ]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      // Small mostly: a delay_ms of minutes is legal but slow.
      return rng.weighted<number>([
        [rng.int(0, 20), 8],
        [rng.int(0, 6_000), 1],
        [4_294_967_295, 1],
      ]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return rng.weighted<bigint>([
        [BigInt(rng.int(0, 1_000_000)), 4],
        [BigInt(rng.int(0, 4_000_000_000)), 2],
        [-1n, 1],
        [9_223_372_036_854_775_807n, 1],
        [-9_223_372_036_854_775_808n, 1],
      ]);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return rng.weighted<bigint>([
        [BigInt(rng.int(0, 1_000_000)), 4],
        [18_446_744_073_709_551_615n, 1],
      ]);
  }
}

function stringValue(rng: Rng, fieldName: string): string {
  if (/(^|_)id$|etag|token|key/.test(fieldName) && rng.chance(0.6)) {
    return rng.weighted<string>([
      [rng.pick(knownIds), 3],
      [randomUuid(rng), 3],
      [`v${rng.int(0, 5)}`, 1],
      ["", 1],
      ["not-a-uuid", 1],
      [Buffer.from(rng.bytes(rng.int(1, 40))).toString("base64url"), 1],
    ]);
  }
  return rng.weighted<string>([
    [rng.pick(shortNames), 8],
    ["", 2],
    ["   ", 1],
    ["tab\there", 1],
    ["nul\u0000byte", 1],
    ["\u202eright-to-left", 1],
    ["e\u0301".repeat(rng.int(1, 12)), 1],
    ["A".repeat(rng.logInt(11, 2_000)), 2],
    [randomText(rng, rng.logInt(1, 200)), 3],
  ]);
}

export function randomUuid(rng: Rng): string {
  const hex = rng.bytes(16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Text from several scripts, some punctuation and some symbols. */
export function randomText(rng: Rng, length: number): string {
  const ranges: ReadonlyArray<readonly [number, number]> = [
    [0x20, 0x7e],
    [0xa0, 0x24f],
    [0x3040, 0x30ff],
    [0x0400, 0x04ff],
    [0x1f300, 0x1f64f],
    [0x4e00, 0x4fff],
  ];
  let text = "";
  for (let i = 0; i < length; i++) {
    const [low, high] = rng.pick(ranges);
    text += String.fromCodePoint(rng.int(low, high));
  }
  return text;
}
