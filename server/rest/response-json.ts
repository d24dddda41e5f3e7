import {
  create,
  type DescMessage,
  type JsonObject,
  type JsonWriteOptions,
  type MessageShape,
  toJson,
  toJsonString,
} from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { RestRoute } from "./route-table.js";

/**
 * A response message in proto3 JSON, or only its `response_body` field:
 * a message field as that message (an unset one as `{}`), any other field
 * as its JSON value with defaults written out (`[]`, `0`, `""`), since the
 * field is the whole answer.
 */
export function responseJson(route: RestRoute, message: MessageShape<DescMessage>, options: Partial<JsonWriteOptions>): string {
  const output = route.entry.method.output;
  const field = route.responseBody;
  if (field === undefined) return toJsonString(output, message, options);
  const fields = reflect(output, message);
  if (field.fieldKind === "message") {
    const value = fields.isSet(field) ? (fields.get(field) as ReflectMessage).message : create(field.message);
    return toJsonString(field.message, value, options);
  }
  const whole = toJson(output, message, { ...options, alwaysEmitImplicit: true }) as JsonObject;
  return JSON.stringify(whole[options.useProtoFieldName === true ? field.name : field.jsonName] ?? null);
}
