import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { callLogInterceptor, recordingFetch } from "./call-log.js";
import { currentToken, noteReadsNeedToken, readsNeedToken } from "./session.js";

export type ProtocolId = "connect-json" | "connect-binary" | "grpc-web";

export interface Protocol {
  readonly id: ProtocolId;
  readonly label: string;
}

export const protocols: Readonly<Record<ProtocolId, Protocol>> = {
  "connect-json": { id: "connect-json", label: "Connect JSON" },
  "connect-binary": { id: "connect-binary", label: "Connect binary" },
  "grpc-web": { id: "grpc-web", label: "gRPC-Web" },
};

export function isProtocolId(value: string | null): value is ProtocolId {
  return value !== null && Object.hasOwn(protocols, value);
}

/**
 * Where the API lives: this page's own origin, unless the page is hosted
 * elsewhere and names the server with `?api=http://host:port` (the server
 * must then list the page's origin in ALLOWED_ORIGINS).
 */
export const apiBaseUrl = ((): string => {
  const requested = new URLSearchParams(location.search).get("api");
  if (requested !== null && URL.canParse(requested)) {
    const url = new URL(requested);
    if (url.protocol === "http:" || url.protocol === "https:") return url.origin;
  }
  return location.origin;
})();

/**
 * Whether a method may change data. The contracts mark every read with
 * `idempotency_level = NO_SIDE_EFFECTS` (which is also what lets reads go as
 * cacheable GETs); anything not marked so is treated as a change, so a new
 * method gets the token until its contract says it only reads.
 */
export function changesData(method: DescMethod): boolean {
  return method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
}

/**
 * Whether the server answers a read according to who asks: orders belong to
 * the token's subject that created them, so reading them without the token
 * would show the orders of nobody signed in instead of one's own.
 */
export function answersPerCaller(method: DescMethod): boolean {
  return method.parent.typeName === OrderService.typeName;
}

/** Puts the token on the request if this call should carry it; says whether it did. */
function attachToken(req: { method: DescMethod; header: Headers }): boolean {
  const token = currentToken();
  if (token === undefined || !(changesData(req.method) || answersPerCaller(req.method) || readsNeedToken())) return false;
  req.header.set("authorization", `Bearer ${token.value}`);
  return true;
}

/**
 * A read refused as UNAUTHENTICATED although it went without a token means
 * the server wants a token on every call (AUTH_REQUIRE_FOR_READS): the page
 * remembers that for this tab. Returns true when `error` taught it so.
 */
function learnFromRefusal(method: DescMethod, error: unknown): boolean {
  if (changesData(method) || answersPerCaller(method) || ConnectError.from(error).code !== Code.Unauthenticated) return false;
  noteReadsNeedToken();
  return true;
}

/**
 * Sends the signed-in person's token as `authorization: Bearer <token>` on
 * calls that change data, on reads of orders (answersPerCaller), and on
 * every read once the server has asked for it (see learnFromRefusal). Other
 * reads go without it, so a token is exposed only where it is needed and
 * anonymous reads stay cacheable. A unary read
 * refused for want of a token goes once more with it; panels that stream
 * reads open them again when told (onReadCredentialsChange).
 */
function authorizationInterceptor(): Interceptor {
  return (next) => async (req) => {
    const sent = attachToken(req);
    try {
      const res = await next(req);
      if (sent || !res.stream) return res;
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
          } catch (error) {
            learnFromRefusal(req.method, error);
            throw error;
          }
        })(),
      };
    } catch (error) {
      if (sent || !learnFromRefusal(req.method, error) || req.stream || !attachToken(req)) throw error;
      return await next(req);
    }
  };
}

function createTransport(protocol: Protocol): Transport {
  const common = {
    baseUrl: apiBaseUrl,
    fetch: recordingFetch,
    // The token is added outside the call log, so the log sees whether each attempt carried one.
    interceptors: [authorizationInterceptor(), callLogInterceptor(protocol.label)],
  };
  switch (protocol.id) {
    // Side-effect-free methods go out as cacheable GET requests; gRPC-Web has no GET.
    case "connect-json":
      return createConnectTransport({ ...common, useHttpGet: true });
    case "connect-binary":
      return createConnectTransport({ ...common, useHttpGet: true, useBinaryFormat: true });
    case "grpc-web":
      return createGrpcWebTransport(common);
  }
}

const transports = new Map<ProtocolId, Transport>();
const listeners = new Set<(protocol: Protocol) => void>();
let current: Protocol = protocols["connect-json"];

/** The protocol every panel uses for its next call. */
export function currentProtocol(): Protocol {
  return current;
}

export function setProtocol(id: ProtocolId): void {
  if (id === current.id) return;
  current = protocols[id];
  for (const listener of listeners) listener(current);
}

/** Runs `listener` whenever the protocol switch changes. */
export function onProtocolChange(listener: (protocol: Protocol) => void): void {
  listeners.add(listener);
}

/** A client for `service` over the currently selected protocol. */
export function client<T extends DescService>(service: T): Client<T> {
  let transport = transports.get(current.id);
  if (transport === undefined) {
    transport = createTransport(current);
    transports.set(current.id, transport);
  }
  return createClient(service, transport);
}
