import { type DescField, type DescMessage, fromJson, type JsonValue, ScalarType } from "@bufbuild/protobuf";

/** The well-known messages a query parameter or path variable can set from one string: their JSON form is a string, number or boolean. */
const textualMessages = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

/** True when a query parameter can set `field`: a scalar, an enum or a well-known type written as text, alone or repeated (no map, no other message). */
export function takesText(field: DescField): boolean {
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
      return true;
    case "message":
      return textualMessages.has(field.message.typeName);
    case "list":
      return field.listKind !== "message" || textualMessages.has(field.message.typeName);
    case "map":
      return false;
  }
}

/**
 * A query parameter's or path variable's text as the JSON value proto3's
 * JSON mapping reads for the field: strings stay strings (numbers, 64-bit
 * integers, bytes in base64, enum names, timestamps and durations are all
 * accepted as strings there), booleans become true or false, an enum given
 * by number becomes a number.
 */
export function textToJson(field: DescField, text: string): JsonValue {
  const { scalar, enumName, message } = elementOf(field);
  if (scalar === ScalarType.BOOL || message === "google.protobuf.BoolValue") return booleanOf(text);
  if (enumName !== undefined && /^-?\d+$/.test(text)) return Number(text);
  return text;
}

function booleanOf(text: string): JsonValue {
  if (text === "true") return true;
  if (text === "false") return false;
  return text;
}

function elementOf(field: DescField): { scalar?: ScalarType; enumName?: string; message?: string } {
  switch (field.fieldKind) {
    case "scalar":
      return { scalar: field.scalar };
    case "enum":
      return { enumName: field.enum.typeName };
    case "message":
      return { message: field.message.typeName };
    case "list":
      if (field.listKind === "scalar") return { scalar: field.scalar };
      if (field.listKind === "enum") return { enumName: field.enum.typeName };
      return { message: field.message.typeName };
    case "map":
      return {};
  }
}

/**
 * Why `value` cannot be the value of `field` in `parent`, in the words of
 * the JSON mapping ("expected number (int32), got \"x\""), or undefined when
 * it can: each parameter is checked alone, so an error names it.
 */
export function problemWith(parent: DescMessage, field: DescField, value: JsonValue): string | undefined {
  try {
    fromJson(parent, { [field.jsonName]: field.fieldKind === "list" ? [value] : value });
    return undefined;
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const at = text.indexOf("from JSON: ");
    return at < 0 ? text : text.slice(at + "from JSON: ".length);
  }
}
