import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { callLogInterceptor, recordingFetch } from "./call-log.js";

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

function createTransport(protocol: Protocol): Transport {
  const common = {
    baseUrl: apiBaseUrl,
    fetch: recordingFetch,
    interceptors: [callLogInterceptor(protocol.label)],
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
