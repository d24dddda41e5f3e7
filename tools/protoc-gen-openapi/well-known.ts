import { ScalarType } from "@bufbuild/protobuf";
import type { Schema } from "./openapi.js";
import { scalarSchemas } from "./scalars.js";

/**
 * The well-known types whose JSON form is not an object of their fields
 * (proto3 JSON mapping), inline wherever a field uses them.
 */
export const wellKnownSchemas: ReadonlyMap<string, Schema> = new Map<string, Schema>([
  ["google.protobuf.Timestamp", { type: "string", format: "date-time", description: 'RFC 3339, in UTC ("Z").' }],
  [
    "google.protobuf.Duration",
    { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", description: 'Seconds with an "s", e.g. "1.5s".' },
  ],
  ["google.protobuf.FieldMask", { type: "string", description: "Field paths in lowerCamelCase, separated by commas." }],
  ["google.protobuf.Struct", { type: "object", additionalProperties: true }],
  ["google.protobuf.Value", { description: "Any JSON value." }],
  ["google.protobuf.ListValue", { type: "array", items: {} }],
  ["google.protobuf.Empty", { type: "object" }],
  [
    "google.protobuf.Any",
    {
      type: "object",
      description: "A message of any type: `@type` names it, the other properties are its fields (or `value` for a well-known type).",
      properties: { "@type": { type: "string" } },
      required: ["@type"],
      additionalProperties: true,
    },
  ],
  ["google.protobuf.DoubleValue", scalarSchemas[ScalarType.DOUBLE]],
  ["google.protobuf.FloatValue", scalarSchemas[ScalarType.FLOAT]],
  ["google.protobuf.Int64Value", scalarSchemas[ScalarType.INT64]],
  ["google.protobuf.UInt64Value", scalarSchemas[ScalarType.UINT64]],
  ["google.protobuf.Int32Value", scalarSchemas[ScalarType.INT32]],
  ["google.protobuf.UInt32Value", scalarSchemas[ScalarType.UINT32]],
  ["google.protobuf.BoolValue", scalarSchemas[ScalarType.BOOL]],
  ["google.protobuf.StringValue", scalarSchemas[ScalarType.STRING]],
  ["google.protobuf.BytesValue", scalarSchemas[ScalarType.BYTES]],
]);

/** google.protobuf.NullValue is JSON's null. */
export const nullValueEnum = "google.protobuf.NullValue";
