import {
  type DescField,
  type DescMessage,
  fromJson,
  type JsonObject,
  type JsonReadOptions,
  type JsonValue,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { preview } from "../domain/text.js";
import { explainUnreadableRequest } from "../interceptors/errors.js";
import type { FieldNames } from "./fields.js";
import type { Bindings } from "./path-template.js";
import { problemWith, takesText, textToJson } from "./query-values.js";
import type { RestRoute } from "./route-table.js";

/** No request message here has more than a dozen fields; a query needs no more parameters than this, even with repeated ones. */
export const maxQueryParameters = 100;

/**
 * A REST request's message, as gRPC transcoding builds it (google/api/http.proto):
 * the path's variables set their fields; the body sets every other field
 * (`body: "*"`) or one (`body: "field"`); the query sets what is left, by
 * each field's name in the contract or in JSON ("title_contains" or
 * "titleContains"), nested fields with dots ("movie.title"), repeated
 * fields by repeating the parameter. Everything is read through the proto3
 * JSON mapping, so well-known types take their JSON forms. Anything the
 * request says twice or differently, or that the method has no field for,
 * is INVALID_ARGUMENT naming it.
 */
export function requestMessage(
  route: RestRoute,
  bindings: Bindings,
  query: URLSearchParams | undefined,
  body: JsonValue | undefined,
  names: FieldNames,
  jsonOptions: Partial<JsonReadOptions>,
): MessageShape<DescMessage> {
  const input = route.entry.method.input;
  const json = bodyJson(route, body);
  const pathSet = new Set<DescField>();
  bindings.forEach(([, value], i) => {
    const fields = route.pathFields[i] as readonly DescField[];
    const leaf = fields.at(-1) as DescField;
    pathSet.add(leaf);
    const jsonValue = textToJson(leaf, value);
    checkValue(parentOf(input, fields), leaf, jsonValue, `the path's ${fields.map((field) => field.name).join(".")}`);
    setFromPath(json, fields, jsonValue);
  });
  if (query !== undefined) setFromQuery(json, route, query, pathSet, names);
  try {
    return fromJson(input, json, jsonOptions);
  } catch (error) {
    const unreadable = new ConnectError(error instanceof Error ? error.message : String(error), Code.InvalidArgument);
    throw explainUnreadableRequest(unreadable, route.entry.method) ?? unreadable;
  }
}

function bodyJson(route: RestRoute, body: JsonValue | undefined): JsonObject {
  switch (route.body.kind) {
    case "none":
      return {};
    case "all":
      if (body === undefined) return {};
      if (!isObject(body)) throw invalid(`the request body must be a JSON object (${route.entry.method.input.typeName})`);
      return body;
    case "field":
      return body === undefined ? {} : { [route.body.field.jsonName]: body };
  }
}

/** A path variable's value goes where the body may have put one too: the same value is fine, another one is an error. */
function setFromPath(json: JsonObject, fields: readonly DescField[], value: JsonValue): void {
  const [parent, key] = slot(json, fields, fields.map((field) => field.name).join("."));
  const leaf = fields.at(-1) as DescField;
  const existing = key === undefined ? undefined : parent[key];
  if (existing !== undefined && existing !== value && String(existing) !== String(value)) {
    throw invalid(`${leaf.name} is "${preview(String(value))}" in the path and something else in the body: leave it out of the body`);
  }
  if (key !== undefined) delete parent[key];
  parent[leaf.jsonName] = value;
}

function setFromQuery(
  json: JsonObject,
  route: RestRoute,
  query: URLSearchParams,
  pathSet: ReadonlySet<DescField>,
  names: FieldNames,
): void {
  const input = route.entry.method.input;
  if (query.size > maxQueryParameters) throw invalid(`the query has more than ${maxQueryParameters} parameters`);
  const given = new Set<string>();
  for (const [name, text] of query) {
    const fields = queryFields(input, name, names, route);
    const leaf = fields.at(-1) as DescField;
    const path = fields.map((field) => field.name).join(".");
    if (pathSet.has(leaf)) throw invalid(`the query parameter "${preview(name)}" sets ${path}, which the path already sets`);
    if (route.body.kind === "all" || (route.body.kind === "field" && fields[0] === route.body.field)) {
      throw invalid(`the query parameter "${preview(name)}" sets ${path}, which ${route.name} takes from the body`);
    }
    const value = textToJson(leaf, text);
    checkValue(parentOf(input, fields), leaf, value, `the query parameter "${preview(name)}"`);
    const [parent, key] = slot(json, fields, path);
    if (leaf.fieldKind === "list") {
      const list = key === undefined ? undefined : parent[key];
      if (Array.isArray(list)) list.push(value);
      else parent[leaf.jsonName] = [value];
      continue;
    }
    if (given.has(path)) throw invalid(`the query sets ${path} more than once; it takes one value`);
    given.add(path);
    parent[leaf.jsonName] = value;
  }
}

/** The fields a query parameter's name (dotted, each part in either spelling) names. */
function queryFields(input: DescMessage, name: string, names: FieldNames, route: RestRoute): DescField[] {
  const fields: DescField[] = [];
  let message: DescMessage | undefined = input;
  for (const part of name.split(".")) {
    const field: DescField | undefined = message === undefined ? undefined : names.find(message, part);
    if (field === undefined) throw unknownParameter(name, route);
    fields.push(field);
    message = field.fieldKind === "message" && !takesText(field) ? field.message : undefined;
  }
  const leaf = fields.at(-1) as DescField;
  if (!takesText(leaf)) {
    const what = leaf.fieldKind === "map" ? "a map" : "a message";
    throw invalid(
      `the query parameter "${preview(name)}" names ${what} field; set its fields one by one (${leaf.name}.<field>=...) or send a body`,
    );
  }
  return fields;
}

function unknownParameter(name: string, route: RestRoute): ConnectError {
  const input = route.entry.method.input;
  const taken = route.body.kind === "all" ? [] : input.fields;
  const bound = new Set(route.pathFields.map((fields) => fields[0]));
  const offered = taken
    .filter((field) => !bound.has(field) && !(route.body.kind === "field" && route.body.field === field))
    .map((field) => (field.jsonName === field.name ? field.name : `${field.name} (or ${field.jsonName})`));
  const takes = offered.length === 0 ? "no query parameters" : `the query parameters ${offered.join(", ")}`;
  return invalid(`unknown query parameter "${preview(name)}": ${route.name} takes ${takes}`);
}

/** The object and key where `fields`' value goes, made on the way down; the key is the one the JSON already uses, if any. */
function slot(json: JsonObject, fields: readonly DescField[], path: string): [JsonObject, string | undefined] {
  let parent = json;
  for (const field of fields.slice(0, -1)) {
    const key = keyOf(parent, field);
    const next = key === undefined ? undefined : parent[key];
    if (next === undefined || next === null) {
      const made: JsonObject = {};
      parent[field.jsonName] = made;
      if (key !== undefined && key !== field.jsonName) delete parent[key];
      parent = made;
    } else if (isObject(next)) {
      parent = next;
    } else {
      throw invalid(`${path}: ${field.name} is not an object in the body`);
    }
  }
  return [parent, keyOf(parent, fields.at(-1) as DescField)];
}

/** The key a JSON object sets `field` with: its JSON name or its name in the contract; undefined if neither. */
function keyOf(json: JsonObject, field: DescField): string | undefined {
  if (Object.hasOwn(json, field.jsonName)) return field.jsonName;
  if (Object.hasOwn(json, field.name)) return field.name;
  return undefined;
}

function parentOf(input: DescMessage, fields: readonly DescField[]): DescMessage {
  const parent = fields.at(-2);
  return parent?.fieldKind === "message" ? parent.message : input;
}

function checkValue(parent: DescMessage, field: DescField, value: JsonValue, where: string): void {
  const problem = problemWith(parent, field, value);
  if (problem !== undefined) throw invalid(preview(`${where} is not a valid ${field.name}: ${problem}`, 300));
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
