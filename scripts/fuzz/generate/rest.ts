import { type DescField, toJson } from "@bufbuild/protobuf";
import type { FastMethod } from "../../../server/fast-path/methods.js";
import { type RestRoute, RouteTable } from "../../../server/rest/route-table.js";
import { procedures, services } from "../../lib/catalog.js";
import type { Case } from "../case.js";
import { randomMessage, randomUuid } from "../messages.js";
import { hugeString, mutateBytes, mutateJson } from "../mutate.js";
import type { Rng } from "../rng.js";
import { oddHeaderValue } from "./values.js";

/** The REST routes the server serves, read from the same descriptors with the same route table. */
const routes: readonly RestRoute[] = (() => {
  const table = new Map<string, FastMethod>();
  for (const service of services) {
    for (const method of service.methods) {
      if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") continue;
      // The route table reads only the descriptors and the kind.
      table.set(`/${service.typeName}/${method.name}`, { service, method, kind: method.methodKind } as FastMethod);
    }
  }
  return new RouteTable(services, table).routes;
})();

const methods = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "TRACE", "CONNECT", "get", "PROPFIND"];

/** A REST request: a valid one for a route, then (most of the time) something wrong with its path, query, method, body or headers. */
export function restCase(rng: Rng, id: string): Case {
  const route = rng.pick(routes);
  const http = rng.chance(0.5) ? "2" : "1.1";
  const procedure = procedures.find((p) => p.method === route.entry.method);
  const mutations: string[] = [];
  let method = route.httpMethod;
  let path = pathOf(rng, route);
  const query = route.body.kind === "all" ? [] : queryOf(rng, route);
  const headers: Array<[string, string]> = [];
  let body = route.body.kind === "none" ? Buffer.alloc(0) : bodyOf(rng, route);
  if (body.length > 0 || route.body.kind !== "none") headers.push(["content-type", "application/json"]);
  let deadlineSent = false;
  if (route.entry.kind === "server_streaming") {
    const accept = rng.pick(["", "text/event-stream", "application/x-ndjson", "application/json", "*/*"]);
    if (accept !== "") headers.push(["accept", accept]);
  }
  if (procedure?.openEnded === true && rng.chance(0.7)) {
    // A watch never ends: a deadline ends it, mid-stream, in the format asked for.
    headers.push(["timeout", `${rng.int(20, 500)}ms`]);
    deadlineSent = true;
  }

  const rounds = rng.chance(0.15) ? 0 : rng.int(1, 2);
  for (let round = 0; round < rounds; round++) {
    rng.weighted<() => void>([
      [
        () => {
          const bad = badPath(rng, path);
          mutations.push(`path ${JSON.stringify(bad.slice(0, 80))}`);
          path = bad;
        },
        4,
      ],
      [() => mutations.push(badQuery(rng, query)), 5],
      [
        () => {
          method = rng.pick(methods.filter((m) => m !== route.httpMethod));
          mutations.push(`method ${method}`);
        },
        2,
      ],
      [
        () => {
          const bad = badBody(rng, body);
          body = bad.data;
          mutations.push(`body: ${bad.what}`);
          if (!headers.some(([name]) => name === "content-type")) headers.push(["content-type", "application/json"]);
        },
        4,
      ],
      [
        () => {
          const type = rng.pick([
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "",
            "application/jsonp",
            "APPLICATION/JSON",
          ]);
          const at = headers.findIndex(([name]) => name === "content-type");
          if (at >= 0) headers.splice(at, 1);
          if (type !== "") headers.push(["content-type", type]);
          if (body.length === 0) body = Buffer.from("{}");
          mutations.push(`content-type ${JSON.stringify(type)}`);
        },
        2,
      ],
      [
        () => {
          const [name, value] = rng.pick<[string, string]>([
            ["timeout", rng.pick(["", "-1", "soon", "1h", "99999999999", "0", "1.5s", "10m", String(rng.u32())])],
            ["accept", oddHeaderValue(rng).slice(0, 300)],
            ["if-none-match", rng.pick(['W/"x"', "*", "", oddHeaderValue(rng).slice(0, 300)])],
            ["last-event-id", rng.pick(["1", "", oddHeaderValue(rng).slice(0, 300)])],
          ]);
          headers.push([name, value]);
          if (name === "timeout") deadlineSent = true;
          mutations.push(`header ${name} ${JSON.stringify(value.slice(0, 40))}`);
        },
        2,
      ],
    ])();
  }
  const target = query.length === 0 ? path : `${path}?${query.join("&")}`;
  return {
    id,
    family: "rest",
    wire: "rest",
    ...(procedure === undefined ? {} : { procedure }),
    deadlineSent,
    mutations,
    request: { kind: "http", http, method, path: target, headers, body },
  };
}

/** The route's path with each variable filled: a known movie, a UUID, or random text, percent-encoded. */
function pathOf(rng: Rng, route: RestRoute): string {
  const { segments, verb } = route.template;
  const parts = segments.map((segment) => {
    if (segment.kind === "literal") return segment.value;
    const value = rng.pick(["a8034f44-aee4-44cf-b32c-74cf452aaaae", randomUuid(rng), `fuzz-${rng.int(0, 999)}`, "Ünïcode ✓"]);
    return encodeURIComponent(value);
  });
  return `/${parts.join("/")}${verb === undefined ? "" : `:${verb}`}`;
}

/** Query parameters for some of the fields the path and body leave, in either spelling. */
function queryOf(rng: Rng, route: RestRoute): string[] {
  const input = route.entry.method.input;
  const json = toJson(input, randomMessage(rng, input), { alwaysEmitImplicit: false }) as Record<string, unknown>;
  const bound = new Set(route.pathFields.map((fields) => fields[0]));
  const params: string[] = [];
  for (const field of input.fields) {
    if (bound.has(field) || (route.body.kind === "field" && route.body.field === field)) continue;
    const value = json[field.jsonName];
    if (value === undefined || typeof value === "object") continue;
    const name = rng.chance(0.5) ? field.name : field.jsonName;
    params.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return params;
}

function bodyOf(rng: Rng, route: RestRoute): Buffer {
  const input = route.entry.method.input;
  const json = toJson(input, randomMessage(rng, input)) as Record<string, unknown>;
  for (const fields of route.pathFields) delete json[(fields[0] as DescField).jsonName];
  const value = route.body.kind === "field" ? (json[route.body.field.jsonName] ?? {}) : json;
  return rng.chance(0.1) ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value));
}

function badPath(rng: Rng, path: string): string {
  return rng.weighted<() => string>([
    [() => `${path}/extra`, 2],
    [() => path.replace(/\/[^/]*$/, "/"), 1],
    [() => `${path.replace(/:[A-Za-z]+$/, "")}:${rng.pick(["nope", "", "watch", "squareRoot", "%3A"])}`, 2],
    [() => path.replace("/v1/", rng.pick(["/v1//", "/v2/", "/V1/", "/v1/./", "/v1/../", "/v1/%2e%2e/", "/v1%2f"])), 2],
    [() => `${path}${rng.pick(["%", "%zz", "%00", "%E0%A4%A", "%ff%fe", "%2F..%2F", ";x=1", "#frag"])}`, 3],
    [() => `/v1/${encodeURIComponent(hugeString(rng, 20_000).value)}`, 1],
    [() => `/v1/${"a/".repeat(rng.logInt(1, 3_000))}`, 1],
    [() => rng.pick(["/v1", "/v1/", "/v1:", "/v1/movies/", "/v1/orders:", "/v1/calculator", "/v1/:add", "/v1/movies/a/b/c"]), 2],
  ])();
}

/** Something wrong with the query, pushed onto it; returns what it was. */
function badQuery(rng: Rng, query: string[]): string {
  return rng.weighted<() => string>([
    [
      () => {
        const name = rng.pick(["page_size", "pageSize", "number", "a", "b", "delay_ms", "completed", "title_contains", "name"]);
        const value = rng.pick([
          "x",
          "",
          "NaN",
          "-Infinity",
          "1e400",
          "1.5",
          "-1",
          "99999999999999999999",
          "true",
          "null",
          "[]",
          "%zz",
          "%00",
          "\u00ff",
        ]);
        query.push(`${name}=${encodeURIComponent(value)}`);
        if (rng.chance(0.3)) query.push(`${name}=${encodeURIComponent(value)}`);
        return `query ${name}=${JSON.stringify(value)}`;
      },
      4,
    ],
    [
      () => {
        const name = rng.pick(["nope", "movie", "movie.id", "id", "etag.x", "a.b.c", "$alt", "__proto__", "constructor", "ünï", ""]);
        query.push(`${encodeURIComponent(name)}=1`);
        return `query unknown ${JSON.stringify(name)}`;
      },
      3,
    ],
    [
      () => {
        const count = rng.logInt(50, 5_000);
        for (let i = 0; i < count; i++) query.push(`title_contains=${i}`);
        return `query ${count} parameters`;
      },
      2,
    ],
    [
      () => {
        const { value, what } = hugeString(rng, 70_000);
        query.push(`title_contains=${encodeURIComponent(value)}`);
        return `query huge value (${what})`;
      },
      1,
    ],
    [
      () => {
        query.push(rng.pick(["&&&", "=", "==", "a", "%", "%zz=1", "a=%", "+=+", "a[0]=1", "a[]=1&a[]=2"]));
        return "query malformed";
      },
      2,
    ],
  ])();
}

function badBody(rng: Rng, body: Buffer): { data: Buffer; what: string } {
  let json: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(body.toString("utf8")) as unknown;
    // JSON.parse takes nesting that JSON.stringify, which recurses, cannot write back (a body mutated deep already).
    JSON.stringify(parsed);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    // Not JSON already (or empty), or too deep to write again: mutate from an empty object.
  }
  return rng.weighted<() => { data: Buffer; what: string }>([
    [() => mutateJson(rng, json), 5],
    [() => mutateBytes(rng, body.length > 0 ? body : Buffer.from("{}")), 2],
    [
      () => ({
        data: Buffer.from(rng.pick(["[]", "null", "1", '"x"', "{", "{}}", '{"a":1', "\uFEFF{}", "{}\n{}"])),
        what: "not one object",
      }),
      3,
    ],
    [() => ({ data: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), what: "invalid UTF-8" }), 1],
  ])();
}
