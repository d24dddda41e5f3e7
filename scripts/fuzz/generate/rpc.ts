import { type DescField, type DescMessage, type Message, ScalarType, toBinary, toJson } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { isStreaming, type Procedure, procedures } from "../../lib/catalog.js";
import type { Case, Family } from "../case.js";
import { randomMessage } from "../messages.js";
import { hugeString, mutateBytes, mutateJson } from "../mutate.js";
import type { Rng } from "../rng.js";
import { type Compression, compress, envelope } from "../wire.js";
import {
  badAuthority,
  connectTimeouts,
  contentType,
  encodings,
  grpcTimeouts,
  oddHeaderName,
  oddHeaderValue,
  protocolVersions,
} from "./values.js";

type RpcWire = "grpc" | "grpc-web" | "connect" | "connect-get";
type Codec = "proto" | "json";

/** A valid call, before it is framed; mutations work on it at each step. */
interface Plan {
  readonly procedure: Procedure;
  readonly wire: RpcWire;
  readonly http: "1.1" | "2";
  readonly codec: Codec;
  readonly compression: Compression | undefined;
  /** The messages, encoded with the codec (not compressed yet). */
  readonly messages: Buffer[];
  readonly headers: Array<[string, string]>;
  path: string;
  deadlineSent: boolean;
  readonly mutations: string[];
}

/** The largest request message the server accepts by default (READ_MAX_BYTES). */
const readMaxBytes = 4 * 1024 * 1024;

export function rpcCase(rng: Rng, id: string, family: Family): Case {
  const plan = makePlan(rng, family);
  if (family === "message") mutateMessage(rng, plan);
  if (family === "huge") hugeMessage(rng, plan);
  const request = frame(rng, plan, family === "envelope");
  if (family === "headers") mutateHeaders(rng, plan, request.headers);
  if (family === "authority") {
    const value = badAuthority(rng);
    // HTTP/2 says it with :authority; node:http2 also passes a host header through.
    const name = plan.http === "2" ? rng.pick([":authority", "host"]) : "host";
    request.headers.push([name, value]);
    plan.mutations.push(`${name} ${JSON.stringify(value.slice(0, 60))}`);
  }
  if (family === "get") mutateGet(rng, plan, request);
  return {
    id,
    family,
    wire: plan.wire,
    procedure: plan.procedure,
    deadlineSent: plan.deadlineSent,
    mutations: plan.mutations,
    request: { kind: "http", http: plan.http, method: request.method, path: plan.path, headers: request.headers, body: request.body },
  };
}

function makePlan(rng: Rng, family: Family): Plan {
  const getFamily = family === "get";
  const candidates = getFamily ? procedures.filter((p) => p.getAllowed || rng.chance(0.05)) : procedures;
  const procedure = rng.pick(candidates);
  const wire: RpcWire = getFamily
    ? "connect-get"
    : rng.weighted<RpcWire>([
        ["grpc", 4],
        ["grpc-web", 3],
        ["connect", 4],
        // GET has no envelope to break.
        ["connect-get", procedure.getAllowed && family !== "envelope" ? 2 : 0],
      ]);
  // gRPC needs HTTP/2; the others run on both.
  const http = wire === "grpc" ? "2" : rng.chance(0.5) ? "2" : "1.1";
  const codec: Codec = rng.chance(0.5) ? "proto" : "json";
  const compression = wire !== "connect-get" && rng.chance(0.2) ? rng.pick<Compression>(["gzip", "br"]) : undefined;
  const count = isStreaming(procedure.method) && procedure.method.methodKind !== "server_streaming" ? rng.int(0, 5) : 1;
  const messages = Array.from({ length: count }, () => encode(procedure.method.input, randomMessage(rng, procedure.method.input), codec));
  const plan: Plan = {
    procedure,
    wire,
    http,
    codec,
    compression,
    messages,
    headers: [],
    path: procedure.path,
    deadlineSent: false,
    mutations: [],
  };
  // Bidirectional streams need HTTP/2 (connect-es answers 505 HTTP Version Not Supported on HTTP/1.1).
  if (procedure.method.methodKind === "bidi_streaming" && http === "1.1") plan.mutations.push("bidi stream over HTTP/1.1");
  // A deadline, sometimes; always a short one on streams that never end by themselves.
  if (rng.chance(procedure.openEnded ? 0.7 : 0.2)) {
    const ms = procedure.openEnded ? rng.int(20, 500) : rng.int(1, 10_000);
    plan.headers.push(wire === "grpc" || wire === "grpc-web" ? ["grpc-timeout", `${ms}m`] : ["connect-timeout-ms", String(ms)]);
    plan.deadlineSent = true;
  }
  return plan;
}

function encode(schema: DescMessage, message: Message, codec: Codec): Buffer {
  return codec === "proto" ? Buffer.from(toBinary(schema, message)) : Buffer.from(JSON.stringify(toJson(schema, message)));
}

function mutateMessage(rng: Rng, plan: Plan): void {
  if (plan.messages.length === 0) plan.messages.push(Buffer.alloc(0));
  const index = rng.int(0, plan.messages.length - 1);
  const original = plan.messages[index] as Buffer;
  const mutated = plan.codec === "json" && rng.chance(0.7) ? mutateJson(rng, jsonObject(original)) : mutateBytes(rng, original);
  plan.messages[index] = mutated.data;
  plan.mutations.push(`message ${index + 1}: ${mutated.what}`);
}

function jsonObject(encoded: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(encoded.toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** One string field (or, without one, an unknown field) made huge; sometimes past READ_MAX_BYTES. */
function hugeMessage(rng: Rng, plan: Plan): void {
  if (plan.messages.length === 0) plan.messages.push(Buffer.alloc(0));
  const index = rng.int(0, plan.messages.length - 1);
  const schema = plan.procedure.method.input;
  const huge = hugeString(rng, rng.chance(0.1) ? readMaxBytes + 1_000_000 : readMaxBytes - 64);
  const field = stringFields(schema)[0] !== undefined ? rng.pick(stringFields(schema)) : undefined;
  if (field !== undefined) {
    const message = reflect(schema, randomMessage(rng, schema));
    message.set(field, huge.value);
    plan.messages[index] = encode(schema, message.message, plan.codec);
    plan.mutations.push(`message ${index + 1}: ${field.name} = ${huge.what}`);
  } else {
    // No string field: the same bytes as an unknown field 1000 (binary), or an unknown key (JSON).
    plan.messages[index] =
      plan.codec === "proto"
        ? Buffer.concat([Buffer.from([0xc2, 0x3e]), varint(Buffer.byteLength(huge.value)), Buffer.from(huge.value)])
        : Buffer.from(JSON.stringify({ unknownField: huge.value }));
    plan.mutations.push(`message ${index + 1}: unknown field of ${huge.what}`);
  }
}

function stringFields(schema: DescMessage): DescField[] {
  return schema.fields.filter((field) => field.fieldKind === "scalar" && field.scalar === ScalarType.STRING);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

interface Framed {
  method: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** The HTTP request for a plan, as a client of its protocol sends it (with envelope mutations when asked). */
function frame(rng: Rng, plan: Plan, mutateEnvelope: boolean): Framed {
  const { wire, codec, compression, procedure } = plan;
  const headers: Array<[string, string]> = [...plan.headers];
  if (wire === "connect-get") {
    const message = plan.messages[0] ?? Buffer.alloc(0);
    const query = new URLSearchParams();
    if (rng.chance(0.8)) query.set("connect", "v1");
    query.set("encoding", codec);
    const compressed = rng.chance(0.15);
    const payload = compressed ? compress(message, "gzip") : message;
    if (compressed) query.set("compression", "gzip");
    if (codec === "proto" || compressed || rng.chance(0.3)) {
      query.set("base64", "1");
      query.set("message", payload.toString("base64url"));
    } else {
      query.set("message", payload.toString("utf8"));
    }
    plan.path = `${procedure.path}?${query.toString()}`;
    if (rng.chance(0.3)) headers.push(["accept-encoding", rng.pick(["gzip", "br", "gzip, br", "identity"])]);
    return { method: "GET", headers, body: Buffer.alloc(0) };
  }
  const streaming = isStreaming(procedure.method);
  if (wire === "connect" && !streaming) {
    headers.unshift(["content-type", codec === "json" ? "application/json" : "application/proto"]);
    if (rng.chance(0.7)) headers.push(["connect-protocol-version", "1"]);
    if (rng.chance(0.3)) headers.push(["accept-encoding", rng.pick(["gzip", "br", "gzip, br"])]);
    let body = plan.messages[0] ?? Buffer.alloc(0);
    if (compression !== undefined) {
      body = compress(body, compression);
      headers.push(["content-encoding", compression]);
    }
    if (mutateEnvelope) {
      // A Connect unary body has no envelope: send one anyway, or a second message, or nothing.
      const trick = rng.int(0, 2);
      body = trick === 0 ? envelope(body) : trick === 1 ? Buffer.concat([body, body]) : Buffer.alloc(0);
      plan.mutations.push(["unary body wrapped in an envelope", "unary body sent twice", "empty unary body"][trick] as string);
    }
    return { method: "POST", headers, body };
  }
  const prefix = wire === "grpc" ? "application/grpc" : wire === "grpc-web" ? "application/grpc-web" : "application/connect";
  const suffix = wire === "connect" ? `+${codec}` : codec === "json" ? "+json" : rng.pick(["", "+proto"]);
  headers.unshift(["content-type", `${prefix}${suffix}`]);
  if (wire === "grpc") headers.push(["te", "trailers"]);
  if (wire === "grpc-web" && rng.chance(0.5)) headers.push(["x-grpc-web", "1"]);
  if (wire === "connect" && rng.chance(0.7)) headers.push(["connect-protocol-version", "1"]);
  if (rng.chance(0.3))
    headers.push([wire === "connect" ? "connect-accept-encoding" : "grpc-accept-encoding", rng.pick(["gzip", "br", "gzip,br"])]);
  if (compression !== undefined) headers.push([wire === "connect" ? "connect-content-encoding" : "grpc-encoding", compression]);
  const frames = plan.messages.map((message) =>
    compression === undefined ? envelope(message) : envelope(compress(message, compression), 1),
  );
  let body: Buffer = Buffer.concat(frames);
  if (mutateEnvelope) body = mutateEnvelopes(rng, plan, frames, body, headers);
  return { method: "POST", headers, body };
}

function mutateEnvelopes(rng: Rng, plan: Plan, frames: Buffer[], body: Buffer, headers: Array<[string, string]>): Buffer {
  const first = frames[0] ?? envelope(Buffer.alloc(0));
  const tricks: Array<readonly [() => [Buffer, string], number]> = [
    [() => [Buffer.concat([body, first.subarray(0, rng.int(1, Math.max(1, first.length - 1)))]), "a last envelope cut short"], 3],
    [
      () => {
        const copy = Buffer.from(first);
        const length = rng.pick([0, 1, 4, 0xffff, 0x7fffffff, 0xffffffff, readMaxBytes, readMaxBytes + 1, first.length + 10]);
        copy.writeUInt32BE(length >>> 0, 1);
        return [copy, `envelope length prefix set to ${length}`];
      },
      4,
    ],
    [
      () => {
        const copy = Buffer.from(first);
        const flags = rng.pick([1, 2, 3, 0x80, 0x81, 0xff, 0x40, 0x04]);
        copy[0] = flags;
        return [copy, `envelope flags 0x${flags.toString(16)}`];
      },
      4,
    ],
    [() => [Buffer.from(rng.bytes(rng.int(1, 4))), "fewer than 5 bytes of envelope"], 2],
    [() => [Buffer.alloc(0), "no envelope at all"], 2],
    [() => [Buffer.concat([body, first, first]), "more messages than the method takes"], 2],
    [
      () => {
        const garbage = rng.bytes(rng.logInt(1, 512));
        return [envelope(garbage, 1), `compressed flag on ${garbage.length} bytes of garbage`];
      },
      3,
    ],
    [
      () => {
        const size = rng.logInt(1_000_000, 16 * 1024 * 1024);
        const bomb = compress(Buffer.alloc(size), plan.compression ?? "gzip");
        return [envelope(bomb, 1), `compression bomb: ${bomb.length} bytes inflating to ${size}`];
      },
      1,
    ],
    [() => [Buffer.concat([body, rng.bytes(rng.int(1, 64))]), "random bytes after the last envelope"], 2],
    [() => [Buffer.concat([body, envelope(Buffer.from("{}"), 2)]), "an end-stream envelope from the client"], 1],
  ];
  const [mutated, what] = rng.weighted(tricks)();
  plan.mutations.push(what);
  // A compressed envelope needs an encoding header; without one, it stays the client's fault.
  if (what.startsWith("compression bomb") && plan.compression === undefined) {
    headers.push([plan.wire === "connect" ? "connect-content-encoding" : "grpc-encoding", "gzip"]);
  }
  return mutated;
}

/** Header-level trouble on an otherwise valid request. */
function mutateHeaders(rng: Rng, plan: Plan, headers: Array<[string, string]>): void {
  const count = rng.weighted([
    [1, 6],
    [2, 3],
    [3, 1],
  ] as const);
  for (let i = 0; i < count; i++) {
    const isGrpc = plan.wire === "grpc" || plan.wire === "grpc-web";
    const trick = rng.weighted<() => string>([
      [
        () => {
          const value = contentType(rng);
          replace(headers, "content-type", value);
          return `content-type ${JSON.stringify(value.slice(0, 60))}`;
        },
        5,
      ],
      [
        () => {
          remove(headers, "content-type");
          return "no content-type";
        },
        1,
      ],
      [
        () => {
          remove(headers, "te");
          if (rng.chance(0.5)) headers.push(["te", rng.pick(["trailers, deflate", "TRAILERS", "gzip", ""])]);
          return "te changed or missing";
        },
        isGrpc ? 2 : 0,
      ],
      [
        () => {
          const value = isGrpc ? rng.pick(grpcTimeouts) : rng.pick(connectTimeouts);
          replace(headers, isGrpc ? "grpc-timeout" : "connect-timeout-ms", value);
          plan.deadlineSent = true;
          return `timeout ${JSON.stringify(value)}`;
        },
        5,
      ],
      [
        () => {
          const name = rng.pick([
            "grpc-encoding",
            "connect-content-encoding",
            "content-encoding",
            "grpc-accept-encoding",
            "connect-accept-encoding",
            "accept-encoding",
          ]);
          const value = rng.pick(encodings);
          replace(headers, name, value);
          return `${name} ${JSON.stringify(value.slice(0, 30))}`;
        },
        4,
      ],
      [
        () => {
          const value = rng.pick(protocolVersions);
          replace(headers, "connect-protocol-version", value);
          return `connect-protocol-version ${JSON.stringify(value)}`;
        },
        2,
      ],
      [
        () => {
          const name = oddHeaderName(rng);
          const value = oddHeaderValue(rng);
          headers.push([name, value]);
          return `header ${name} (${value.length} chars)`;
        },
        5,
      ],
      [
        () => {
          const existing = headers.length > 0 ? rng.pick(headers) : (["x-dup", "1"] as [string, string]);
          const copies = rng.logInt(1, 50);
          for (let c = 0; c < copies; c++) headers.push([existing[0], c % 2 === 0 ? existing[1] : oddHeaderValue(rng).slice(0, 100)]);
          return `${existing[0]} repeated ${copies} more times`;
        },
        3,
      ],
      [
        () => {
          const many = rng.logInt(50, 3_000);
          for (let h = 0; h < many; h++) headers.push([`x-many-${h}`, "v"]);
          return `${many} extra headers`;
        },
        2,
      ],
      [
        () => {
          plan.path = mutatePath(rng, plan.path);
          return `path ${JSON.stringify(plan.path.slice(0, 80))}`;
        },
        4,
      ],
    ])();
    plan.mutations.push(trick);
  }
}

function mutatePath(rng: Rng, path: string): string {
  const [service = "", method = ""] = path.slice(1).split("/");
  return rng.pick([
    `${path}/`,
    `/${path}`,
    `${path}?x=1`,
    `/${service}//${method}`,
    `/${service}/${method.toLowerCase()}`,
    `/${service.toUpperCase()}/${method}`,
    `/${service}%2F${method}`,
    `/${service}/${method}%00`,
    `/${service}/../${service}/${method}`,
    `/${service}/`,
    `/${service}`,
    `/${service}/${method}${"x".repeat(rng.logInt(1, 10_000))}`,
    `/${service}/${method}#fragment`,
    `/%${service}/${method}`,
    `/${encodeURIComponent("ünï")}/${method}`,
  ]);
}

/** Connect GET's query string made wrong. */
function mutateGet(rng: Rng, plan: Plan, request: Framed): void {
  if (plan.wire !== "connect-get") return;
  const url = new URL(plan.path, "http://x");
  const query = url.searchParams;
  const trick = rng.weighted<() => string>([
    [
      () => {
        const bad = rng.pick(["!!!", "a", "ab=", "====", "%%%", "A".repeat(rng.logInt(1, 50_000)), "+/+/", "\u00ff", ""]);
        query.set("base64", "1");
        query.set("message", bad);
        return `base64 message ${JSON.stringify(bad.slice(0, 20))}`;
      },
      5,
    ],
    [
      () => {
        query.delete("message");
        return "no message parameter";
      },
      2,
    ],
    [
      () => {
        const value = rng.pick(["xml", "", "JSON", "proto3", "json,proto"]);
        query.set("encoding", value);
        return `encoding=${value}`;
      },
      2,
    ],
    [
      () => {
        query.delete("encoding");
        return "no encoding parameter";
      },
      1,
    ],
    [
      () => {
        const value = rng.pick(["gzip", "br", "deflate", "identity", "", "zstd"]);
        query.set("compression", value);
        return `compression=${value}`;
      },
      3,
    ],
    [
      () => {
        const value = rng.pick(["v2", "", "1", "v1,v2"]);
        query.set("connect", value);
        return `connect=${value}`;
      },
      2,
    ],
    [
      () => {
        query.set("base64", rng.pick(["0", "true", "2", ""]));
        return `base64=${query.get("base64")}`;
      },
      2,
    ],
    [
      () => {
        query.append("message", "{}");
        query.append("encoding", "json");
        return "parameters given twice";
      },
      1,
    ],
    [
      () => {
        const message = query.get("message") ?? "";
        const mutated = mutateBytes(rng, Buffer.from(message));
        query.set("message", mutated.data.toString("latin1"));
        return `message text: ${mutated.what}`;
      },
      4,
    ],
    [
      () => {
        request.body = rng.bytes(rng.logInt(1, 1000));
        request.headers.push(["content-type", "application/json"]);
        return "a GET with a body";
      },
      1,
    ],
    [
      () => {
        request.headers.push(["if-none-match", oddHeaderValue(rng).slice(0, 200)]);
        return "if-none-match";
      },
      1,
    ],
  ])();
  plan.path = `${url.pathname}?${query.toString()}`;
  plan.mutations.push(trick);
}

function replace(headers: Array<[string, string]>, name: string, value: string): void {
  remove(headers, name);
  headers.push([name, value]);
}

function remove(headers: Array<[string, string]>, name: string): void {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]?.[0] === name) headers.splice(i, 1);
}
