import { ScalarType } from "@bufbuild/protobuf";
import type { Schema } from "./openapi.js";

const int64: Schema = { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
const uint64: Schema = { type: "string", format: "uint64", pattern: "^[0-9]+$" };

/**
 * Each scalar type as the proto3 JSON mapping writes it: 64-bit integers as
 * decimal strings (a JavaScript number would lose digits past 2^53), bytes
 * as base64. Parsers accept more (numbers for 64-bit integers, "NaN" for
 * doubles); the schema says what a client should send and will get back.
 */
export const scalarSchemas: Readonly<Record<ScalarType, Schema>> = {
  [ScalarType.DOUBLE]: { type: "number", format: "double" },
  [ScalarType.FLOAT]: { type: "number", format: "float" },
  [ScalarType.INT64]: int64,
  [ScalarType.SINT64]: int64,
  [ScalarType.SFIXED64]: int64,
  [ScalarType.UINT64]: uint64,
  [ScalarType.FIXED64]: uint64,
  [ScalarType.INT32]: { type: "integer", format: "int32" },
  [ScalarType.SINT32]: { type: "integer", format: "int32" },
  [ScalarType.SFIXED32]: { type: "integer", format: "int32" },
  [ScalarType.UINT32]: { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 },
  [ScalarType.FIXED32]: { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 },
  [ScalarType.BOOL]: { type: "boolean" },
  [ScalarType.STRING]: { type: "string" },
  [ScalarType.BYTES]: { type: "string", contentEncoding: "base64" },
};

/** A map key as it appears in JSON: always a string, spelling the key's value. */
export function mapKeySchema(key: ScalarType): Schema {
  switch (key) {
    case ScalarType.BOOL:
      return { type: "string", enum: ["true", "false"] };
    case ScalarType.STRING:
      return { type: "string" };
    default:
      return { type: "string", pattern: "^-?[0-9]+$" };
  }
}
