import {
  type DescEnum,
  type DescField,
  type DescMessage,
  getOption,
  hasOption,
  type JsonObject,
  type JsonValue,
  toJson,
} from "@bufbuild/protobuf";
import {
  FieldRulesSchema,
  field as fieldRulesOption,
  MessageRulesSchema,
  message as messageRulesOption,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { Schema } from "./openapi.js";

/**
 * buf.validate rules as JSON Schema. A rule with a JSON Schema keyword of the
 * same meaning becomes that keyword; every other rule (CEL expressions, rules
 * on 64-bit integers, which JSON carries as strings, timestamps, bytes) is
 * listed in the description, so a reader still learns everything the server
 * checks. The rules are read in their JSON form, which is the same for every
 * numeric type and tells which rules are set.
 */
export interface FieldConstraints {
  /** The field's schema with the rules' keywords and notes added. */
  readonly schema: Schema;
  /** `(buf.validate.field).required`: the property belongs in its message's `required`. */
  readonly required: boolean;
}

/** Applies a field's rules to the schema its type gives it. */
export function constrainField(field: DescField, schema: Schema): FieldConstraints {
  if (!hasOption(field, fieldRulesOption)) return { schema, required: false };
  const rules = toJson(FieldRulesSchema, getOption(field, fieldRulesOption));
  if (!isObject(rules) || rules.ignore === "IGNORE_ALWAYS") return { schema, required: false };
  const enumType = field.fieldKind === "scalar" || field.fieldKind === "message" ? undefined : field.enum;
  return { schema: applyRules(rules, schema, enumType), required: rules.required === true };
}

/** The message-level CEL rules, for the message's description; undefined when there are none. */
export function messageRulesNote(message: DescMessage): string | undefined {
  if (!hasOption(message, messageRulesOption)) return undefined;
  const rules = toJson(MessageRulesSchema, getOption(message, messageRulesOption));
  if (!isObject(rules)) return undefined;
  const cel = celRules(rules);
  const oneofs = Array.isArray(rules.oneof) ? rules.oneof.length : 0;
  const notes = [
    cel.length > 0 ? `${celLead}: ${cel.map((rule) => `\`${rule.id}\``).join(", ")}.` : undefined,
    oneofs > 0 ? `Message oneof rules: ${JSON.stringify(rules.oneof)}.` : undefined,
  ].filter((note) => note !== undefined);
  return notes.length === 0 ? undefined : notes.join(" ");
}

/** How a description introduces CEL rules: their ids are what an error names. */
const celLead =
  "Checked by the server (buf.validate CEL rules; a broken one fails with INVALID_ARGUMENT, its id in capitals as the reason)";

/** The keys of FieldRules that name the rules for one type of field (the `type` oneof). */
const typeCases = [
  ...["float", "double", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"],
  ...["bool", "string", "bytes", "enum", "repeated", "map", "any", "duration", "fieldMask", "timestamp"],
] as const;

/** 64-bit integers are strings in JSON: numeric keywords would not apply to them. */
const sixtyFourBit = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const thirtyTwoBitOrFloat = new Set(["float", "double", "int32", "uint32", "sint32", "fixed32", "sfixed32"]);

/** `enumType`: the enum of the field (or of its elements or values), whose rules name values by number. */
function applyRules(rules: JsonObject, base: Schema, enumType: DescEnum | undefined): Schema {
  let schema = base;
  const unmapped: string[] = [];
  for (const kind of typeCases) {
    const typed = rules[kind];
    if (!isObject(typed)) continue;
    const { keywords, rest } = keywordsFor(kind, typed, schema, enumType);
    schema = merge(schema, keywords);
    if (Object.keys(rest).length > 0) unmapped.push(`\`${kind}\` ${JSON.stringify(rest)}`);
  }
  const cel = celRules(rules);
  const notes = [
    cel.length > 0 ? `${celLead}: ${cel.map((rule) => `\`${rule.id}\``).join(", ")}.` : undefined,
    unmapped.length > 0 ? `Also checked by the server (buf.validate): ${unmapped.join("; ")}.` : undefined,
  ].filter((note) => note !== undefined);
  if (notes.length > 0)
    schema = { ...schema, description: [schema.description, ...notes].filter((part) => part !== undefined).join("\n\n") };
  if (cel.length > 0) schema = { ...schema, "x-buf-validate-cel": cel };
  return schema;
}

interface Mapped {
  readonly keywords: Schema;
  /** The rules of this kind that no keyword expresses. */
  readonly rest: JsonObject;
}

function keywordsFor(kind: (typeof typeCases)[number], typed: JsonObject, schema: Schema, enumType: DescEnum | undefined): Mapped {
  const rest: JsonObject = { ...typed };
  const take = (key: string): JsonValue | undefined => {
    const value = rest[key];
    delete rest[key];
    return value;
  };
  // Examples document a value; they are not rules.
  const examples = take("example");
  const keywords: Schema = Array.isArray(examples) && examples.length > 0 ? { examples } : {};
  if (thirtyTwoBitOrFloat.has(kind)) Object.assign(keywords, numberKeywords(take));
  else if (sixtyFourBit.has(kind))
    Object.assign(
      keywords,
      listKeywords(take, (value) => (typeof value === "string" ? value : undefined)),
    );
  else if (kind === "string") Object.assign(keywords, stringKeywords(take));
  else if (kind === "bool") {
    const value = take("const");
    if (typeof value === "boolean") keywords.const = value;
  } else if (kind === "enum") {
    // The schema lists the names only, which is what defined_only asks.
    take("definedOnly");
    const name = (value: JsonValue) => enumType?.values.find((known) => known.number === value)?.name;
    Object.assign(keywords, listKeywords(take, name));
  } else if (kind === "repeated") Object.assign(keywords, repeatedKeywords(take, schema, enumType));
  else if (kind === "map") Object.assign(keywords, mapKeywords(take, schema, enumType));
  return { keywords, rest };
}

type Take = (key: string) => JsonValue | undefined;

function numberKeywords(take: Take): Schema {
  const keywords: Schema = listKeywords(take, (value) => (typeof value === "number" ? value : undefined));
  // `finite` refuses "NaN" and "Infinity", which `type: number` does not allow either.
  take("finite");
  const lt = asNumber(take("lt"));
  const lte = asNumber(take("lte"));
  const gt = asNumber(take("gt"));
  const gte = asNumber(take("gte"));
  const upper: Schema = lt !== undefined ? { exclusiveMaximum: lt } : lte !== undefined ? { maximum: lte } : {};
  const lower: Schema = gt !== undefined ? { exclusiveMinimum: gt } : gte !== undefined ? { minimum: gte } : {};
  const top = lt ?? lte;
  const bottom = gt ?? gte;
  // A lower bound above the upper one means "outside the range" in buf.validate.
  if (top !== undefined && bottom !== undefined && bottom > top) return { ...keywords, anyOf: [upper, lower] };
  return { ...keywords, ...upper, ...lower };
}

/** const, in and not_in, with the values JSON gives them (numbers, or strings for 64-bit integers, or enum numbers). */
function listKeywords<T extends string | number>(take: Take, accept: (value: JsonValue) => T | undefined): Schema {
  const keywords: Schema = {};
  const single = take("const");
  const one = single === undefined ? undefined : accept(single);
  if (one !== undefined) keywords.const = one;
  const values = (key: string): T[] | undefined => {
    const list = take(key);
    if (!Array.isArray(list)) return undefined;
    const accepted = list.map(accept).filter((value): value is T => value !== undefined);
    return accepted.length === list.length ? accepted : undefined;
  };
  const allowed = values("in");
  if (allowed !== undefined) keywords.enum = allowed;
  const refused = values("notIn");
  if (refused !== undefined) keywords.not = { enum: refused };
  return keywords;
}

const formats: Readonly<Record<string, string>> = {
  email: "email",
  hostname: "hostname",
  ipv4: "ipv4",
  ipv6: "ipv6",
  uri: "uri",
  uriRef: "uri-reference",
  uuid: "uuid",
};

function stringKeywords(take: Take): Schema {
  const keywords: Schema = listKeywords(take, (value) => (typeof value === "string" ? value : undefined));
  const len = asNumber(take("len"));
  const minLength = len ?? asNumber(take("minLen"));
  const maxLength = len ?? asNumber(take("maxLen"));
  if (minLength !== undefined) keywords.minLength = minLength;
  if (maxLength !== undefined) keywords.maxLength = maxLength;
  const patterns: string[] = [];
  const pattern = take("pattern");
  if (typeof pattern === "string") patterns.push(pattern);
  const prefix = take("prefix");
  if (typeof prefix === "string") patterns.push(`^${escapeRegExp(prefix)}`);
  const suffix = take("suffix");
  if (typeof suffix === "string") patterns.push(`${escapeRegExp(suffix)}$`);
  const contains = take("contains");
  if (typeof contains === "string") patterns.push(escapeRegExp(contains));
  if (take("tuuid") === true) patterns.push("^[0-9a-fA-F]{32}$");
  const [first, ...others] = patterns;
  if (first !== undefined) keywords.pattern = first;
  if (others.length > 0) keywords.allOf = others.map((other) => ({ pattern: other }));
  const notContains = take("notContains");
  if (typeof notContains === "string") keywords.not = { ...keywords.not, pattern: escapeRegExp(notContains) };
  for (const [rule, format] of Object.entries(formats)) {
    if (take(rule) === true) keywords.format = format;
  }
  return keywords;
}

function repeatedKeywords(take: Take, schema: Schema, enumType: DescEnum | undefined): Schema {
  const keywords: Schema = {};
  const minItems = asNumber(take("minItems"));
  const maxItems = asNumber(take("maxItems"));
  if (minItems !== undefined) keywords.minItems = minItems;
  if (maxItems !== undefined) keywords.maxItems = maxItems;
  if (take("unique") === true) keywords.uniqueItems = true;
  const items = take("items");
  if (isObject(items) && schema.items !== undefined) keywords.items = applyRules(items, schema.items, enumType);
  return keywords;
}

function mapKeywords(take: Take, schema: Schema, enumType: DescEnum | undefined): Schema {
  const keywords: Schema = {};
  const minProperties = asNumber(take("minPairs"));
  const maxProperties = asNumber(take("maxPairs"));
  if (minProperties !== undefined) keywords.minProperties = minProperties;
  if (maxProperties !== undefined) keywords.maxProperties = maxProperties;
  const keys = take("keys");
  if (isObject(keys)) keywords.propertyNames = applyRules(keys, schema.propertyNames ?? { type: "string" }, undefined);
  const values = take("values");
  if (isObject(values) && typeof schema.additionalProperties === "object") {
    keywords.additionalProperties = applyRules(values, schema.additionalProperties, enumType);
  }
  return keywords;
}

/**
 * Adds keywords to a schema. A keyword the schema already has (a second
 * pattern, say) goes into `allOf`, so both apply; `items`, `propertyNames`
 * and `additionalProperties` were built from the schema's own and replace them.
 */
function merge(schema: Schema, keywords: Schema): Schema {
  const merged: Schema = { ...schema };
  const extra: Schema[] = [];
  for (const [key, value] of Object.entries(keywords) as Array<[keyof Schema, Schema[keyof Schema]]>) {
    const replaces = key === "items" || key === "propertyNames" || key === "additionalProperties";
    if (key === "allOf" && Array.isArray(value)) merged.allOf = [...(merged.allOf ?? []), ...(value as Schema[])];
    else if (merged[key] === undefined || replaces) Object.assign(merged, { [key]: value });
    else extra.push({ [key]: value });
  }
  if (extra.length > 0) merged.allOf = [...(merged.allOf ?? []), ...extra];
  return merged;
}

interface CelRule {
  id: string;
  expression: string;
  message?: string;
}

function celRules(rules: JsonObject): CelRule[] {
  const listed = Array.isArray(rules.cel) ? rules.cel : [];
  const shorthand = Array.isArray(rules.celExpression) ? rules.celExpression : [];
  return [
    ...listed.filter(isObject).map((rule) => ({
      id: typeof rule.id === "string" ? rule.id : "",
      expression: typeof rule.expression === "string" ? rule.expression : "",
      ...(typeof rule.message === "string" ? { message: rule.message } : {}),
    })),
    ...shorthand.filter((expression) => typeof expression === "string").map((expression) => ({ id: expression, expression })),
  ];
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A bound as JSON gives it: a number, or a decimal string for a 64-bit one. */
function asNumber(value: JsonValue | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}
