import {
  type DescExtension,
  type DescFile,
  type DescMethod,
  getOption,
  hasOption,
  isMessage,
  type JsonValue,
  toJson,
} from "@bufbuild/protobuf";
import type { HttpMethod } from "./openapi.js";

/** One route of a google.api.http rule: an HTTP method and path template, with where the request and response go. */
export interface HttpBinding {
  readonly method: HttpMethod;
  /** The path template, e.g. "/v1/movies/{id}" or "/v1/{name=shelves/*}:undelete". */
  readonly path: string;
  /** "" (no body), "*" (every field not bound by the path), or the request field (proto name) that is the body. */
  readonly body: string;
  /** "" (the whole response message) or the response field (proto name) that is the response. */
  readonly responseBody: string;
}

/** The option's full name, as google/api/annotations.proto declares it. */
const httpOptionName = "google.api.http";

/**
 * The google.api.http extension, as the request's own files declare it.
 * Read by reflection rather than from generated code: the generator runs
 * before any code exists, and the request carries the declaration whenever
 * a contract imports google/api/annotations.proto. Undefined when none does.
 */
export function findHttpOption(files: readonly DescFile[]): DescExtension | undefined {
  for (const file of files) {
    const found = file.extensions.find((extension) => extension.typeName === httpOptionName);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The routes a method's google.api.http option declares: the rule's own, then its additional_bindings. */
export function httpBindings(method: DescMethod, option: DescExtension | undefined): HttpBinding[] {
  if (option === undefined || option.fieldKind !== "message" || !hasOption(method, option)) return [];
  const value: unknown = getOption(method, option);
  if (!isMessage(value, option.message)) throw new Error(`${method.parent.typeName}.${method.name}: google.api.http is not an HttpRule`);
  const rule = toJson(option.message, value);
  const where = `${method.parent.typeName}.${method.name}`;
  const first = binding(rule, where);
  const additional = field(rule, "additionalBindings");
  const more = Array.isArray(additional) ? additional.map((entry) => binding(entry, where)) : [];
  return [first, ...more];
}

const patterns = ["get", "put", "post", "delete", "patch"] as const;
/** custom.kind values OpenAPI has a method for. */
const customKinds = new Map<string, HttpMethod>([
  ["options", "options"],
  ["head", "head"],
  ["trace", "trace"],
]);

function binding(rule: JsonValue, where: string): HttpBinding {
  const body = text(rule, "body");
  const responseBody = text(rule, "responseBody");
  for (const method of patterns) {
    const path = field(rule, method);
    if (typeof path === "string") return { method, path, body, responseBody };
  }
  const custom = field(rule, "custom");
  const kind = customKinds.get(text(custom, "kind").toLowerCase());
  if (kind !== undefined) return { method: kind, path: text(custom, "path"), body, responseBody };
  throw new Error(`${where}: google.api.http has no pattern OpenAPI can describe (${JSON.stringify(rule)})`);
}

function field(value: JsonValue | undefined, key: string): JsonValue | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value[key] : undefined;
}

function text(value: JsonValue | undefined, key: string): string {
  const found = field(value, key);
  return typeof found === "string" ? found : "";
}
