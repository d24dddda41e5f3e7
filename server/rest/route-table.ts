import type { DescField, DescMethod, DescService } from "@bufbuild/protobuf";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import type { FastMethod } from "../fast-path/methods.js";
import { isSingularValue, resolveFieldPath } from "./fields.js";
import { type Bindings, matchTemplate, type PathTemplate, parseTemplate, specificity } from "./path-template.js";

/** Where a route's request message comes from besides its path: the whole body, one field of it, or the query alone. */
export type BodyMapping = { readonly kind: "none" } | { readonly kind: "all" } | { readonly kind: "field"; readonly field: DescField };

/** One binding of one method (a rule, or one of its additional_bindings). */
export interface RestRoute {
  /** "GET", "POST", "PUT", "PATCH", "DELETE", or a custom rule's kind. */
  readonly httpMethod: string;
  readonly template: PathTemplate;
  readonly entry: FastMethod;
  /** The fields each of the template's variables sets, in the template's order. */
  readonly pathFields: ReadonlyArray<readonly DescField[]>;
  readonly body: BodyMapping;
  /** The response field sent as the whole answer (`response_body`); undefined: the whole message. */
  readonly responseBody: DescField | undefined;
  /** "GET /v1/movies/{id}", for errors and logs. */
  readonly name: string;
}

/** What a request's method and path come to. */
export type RouteMatch =
  | { readonly kind: "route"; readonly route: RestRoute; readonly bindings: Bindings }
  /** A route matches the path and method, but its path cannot be read (bad percent-encoding). */
  | { readonly kind: "unreadable"; readonly route: RestRoute; readonly reason: string }
  /** Routes match the path, none with this method. */
  | { readonly kind: "wrong-method"; readonly allowed: readonly string[] }
  | { readonly kind: "none" };

/**
 * The REST routes of every method whose contract has a `google.api.http`
 * option, read from the descriptors at start; throws (the server does not
 * start) for a rule the transcoder cannot serve or should not: a GET on a
 * method with side effects, a binding on a client or bidi stream, a
 * template or field that does not resolve, or two routes one request could
 * take.
 */
export class RouteTable {
  readonly routes: readonly RestRoute[];
  /** The first path segments of every template ("v1"): paths under them are REST's, and get REST's 404. */
  readonly #prefixes: ReadonlySet<string>;

  constructor(services: readonly DescService[], table: ReadonlyMap<string, FastMethod>) {
    const routes: RestRoute[] = [];
    for (const service of services) {
      for (const method of service.methods) {
        if (!hasOption(method, http)) continue;
        const entry = table.get(`/${service.typeName}/${method.name}`);
        if (entry === undefined) {
          throw new Error(
            `${describe(method)}: google.api.http on a ${method.methodKind} method; only unary and server-streaming methods have REST routes`,
          );
        }
        const rule = getOption(method, http);
        routes.push(routeOf(entry, rule));
        for (const extra of rule.additionalBindings) {
          if (extra.additionalBindings.length > 0)
            throw new Error(`${describe(method)}: an additional binding has additional bindings of its own`);
          routes.push(routeOf(entry, extra));
        }
      }
    }
    checkDistinct(routes);
    // The most specific template first: it wins when two match one path.
    this.routes = routes.sort((a, b) => specificity(b.template) - specificity(a.template));
    this.#prefixes = new Set(routes.map((route) => firstSegment(route.template.text)));
  }

  /** True when `path` is under a REST prefix: REST answers it, a 404 included. */
  claims(path: string): boolean {
    return this.#prefixes.has(firstSegment(path));
  }

  match(httpMethod: string, path: string): RouteMatch {
    let allowed: string[] | undefined;
    for (const route of this.routes) {
      const bindings = matchTemplate(route.template, path);
      if (bindings === undefined) continue;
      if (route.httpMethod !== httpMethod) {
        allowed ??= [];
        if (!allowed.includes(route.httpMethod)) allowed.push(route.httpMethod);
        continue;
      }
      if (typeof bindings === "string") return { kind: "unreadable", route, reason: bindings };
      return { kind: "route", route, bindings };
    }
    return allowed === undefined ? { kind: "none" } : { kind: "wrong-method", allowed };
  }
}

function routeOf(entry: FastMethod, rule: HttpRule): RestRoute {
  const { method } = entry;
  const where = describe(method);
  const [httpMethod, text] = patternOf(rule, where);
  let template: PathTemplate;
  try {
    template = parseTemplate(text);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
  if (template.segments[0]?.kind !== "literal") {
    // The first segment is the REST prefix ("v1"): everything else on the port (the page, RPCs) stays outside it.
    throw new Error(`${where}: path template "${text}" must begin with a literal segment such as /v1`);
  }
  if (httpMethod === "GET" && method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) {
    // A GET may be sent by a link, a prefetch or a crawler: it must change nothing.
    throw new Error(`${where}: GET ${text} on a method not marked idempotency_level = NO_SIDE_EFFECTS`);
  }
  const pathFields = template.variables.map((variable) => {
    const fields = resolved(where, () => resolveFieldPath(method.input, variable.fieldPath));
    const last = fields.at(-1) as DescField;
    if (!isSingularValue(last))
      throw new Error(`${where}: path variable "${variable.fieldPath.join(".")}" must name a singular scalar or enum field`);
    return fields;
  });
  const body = bodyOf(rule.body, method, where);
  if (body.kind !== "none" && (httpMethod === "GET" || httpMethod === "DELETE")) {
    throw new Error(`${where}: ${httpMethod} ${text} has a body; GET and DELETE requests carry none`);
  }
  const responseBody =
    rule.responseBody === "" ? undefined : resolved(where, () => topLevel(method.output.fields, rule.responseBody, "response_body"));
  checkStreamedShape(entry, responseBody, where);
  return { httpMethod, template, entry, pathFields, body, responseBody, name: `${httpMethod} ${text}` };
}

function patternOf(rule: HttpRule, where: string): readonly [string, string] {
  switch (rule.pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return [rule.pattern.case.toUpperCase(), rule.pattern.value];
    case "custom":
      return [rule.pattern.value.kind.toUpperCase(), rule.pattern.value.path];
    default:
      throw new Error(`${where}: a google.api.http rule without a pattern (get, put, post, delete, patch or custom)`);
  }
}

function bodyOf(body: string, method: DescMethod, where: string): BodyMapping {
  if (body === "") return { kind: "none" };
  if (body === "*") return { kind: "all" };
  return { kind: "field", field: resolved(where, () => topLevel(method.input.fields, body, "body")) };
}

function topLevel(fields: readonly DescField[], name: string, option: string): DescField {
  const field = fields.find((candidate) => candidate.name === name);
  if (field === undefined) throw new Error(`${option} "${name}" is not a top-level field`);
  return field;
}

/**
 * A failed stream ends with a line or element `{"error": {...}}` (see
 * stream-formats.ts): a streamed message with a top-level `error` field of
 * its own could not be told apart from it.
 */
function checkStreamedShape(entry: FastMethod, responseBody: DescField | undefined, where: string): void {
  if (entry.kind !== "server_streaming") return;
  const streamed =
    responseBody === undefined ? entry.method.output : responseBody.fieldKind === "message" ? responseBody.message : undefined;
  if (streamed?.fields.some((field) => field.jsonName === "error")) {
    throw new Error(`${where}: a streamed message has a field "error", which REST streams use to report a failure`);
  }
}

function resolved<T>(where: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

/** Two routes that one request could take: same method, same segments (whatever their variables are called), same verb. */
function checkDistinct(routes: readonly RestRoute[]): void {
  const seen = new Map<string, RestRoute>();
  for (const route of routes) {
    const shape = route.template.segments.map((segment) =>
      segment.kind === "literal" ? segment.value : segment.kind === "one" ? "*" : "**",
    );
    const key = `${route.httpMethod} /${shape.join("/")}${route.template.verb === undefined ? "" : `:${route.template.verb}`}`;
    const other = seen.get(key);
    if (other !== undefined) {
      throw new Error(
        `${route.name} (${describe(route.entry.method)}) and ${other.name} (${describe(other.entry.method)}) take the same requests`,
      );
    }
    seen.set(key, route);
  }
}

/** "/v1/movies/{id}" → "v1"; "/v1:batch" → "v1". */
function firstSegment(path: string): string {
  const end = path.slice(1).search(/[/:]/);
  return end < 0 ? path.slice(1) : path.slice(1, end + 1);
}

function describe(method: DescMethod): string {
  return `${method.parent.typeName}.${method.name}`;
}
