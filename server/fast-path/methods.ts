import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import {
  createMethodSerializationLookup,
  type MethodSerializationLookup,
  type UniversalHandler,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";
import type { ServiceEntry } from "../services/registry.js";

/** What an implementation is called with: connect-es's own signature (a unary one answers a message, a server-streaming one yields messages). */
export type MethodImpl = (request: unknown, context: unknown) => unknown;

/** The kinds of method the fast path serves: one request message in, one or many out. */
export type FastMethodKind = "unary" | "server_streaming";

/** One method the fast path serves: its descriptors, implementation, and connect-node's handler for the cases it hands back. */
export interface FastMethod {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly kind: FastMethodKind;
  readonly impl: MethodImpl;
  /** Connect GET is allowed (a unary method marked NO_SIDE_EFFECTS). */
  readonly takesGet: boolean;
  readonly serialization: MethodSerializationLookup<DescMessage, DescMessage>;
  /** The handler connect-node runs for this path (with every wrapper the app adds): requests the fast path gives back go there. */
  readonly handler: UniversalHandler;
}

export interface SerializationOptions {
  readonly binaryOptions: Parameters<typeof createMethodSerializationLookup>[1];
  readonly jsonOptions: Parameters<typeof createMethodSerializationLookup>[2];
  readonly readMaxBytes: number;
  readonly compressMinBytes: number;
}

/** The fast path's table, path → method: unary and server-streaming methods, each with connect-node's handler for the same path. */
export function methodTable(
  handlers: readonly UniversalHandler[],
  services: readonly ServiceEntry[],
  options: SerializationOptions,
): Map<string, FastMethod> {
  // The very implementations connect-node's handlers call.
  const impls = new Map<string, MethodImpl>();
  for (const { spec } of services) {
    for (const methodSpec of Object.values(spec.methods)) {
      if (methodSpec.kind === "unary" || methodSpec.kind === "server_streaming") {
        impls.set(pathOf(methodSpec.method), methodSpec.impl as MethodImpl);
      }
    }
  }
  const table = new Map<string, FastMethod>();
  for (const handler of handlers) {
    const impl = impls.get(handler.requestPath);
    const kind = handler.method.methodKind;
    if (impl === undefined || (kind !== "unary" && kind !== "server_streaming") || handler.requestPath !== pathOf(handler.method)) continue;
    table.set(handler.requestPath, {
      service: handler.service,
      method: handler.method,
      kind,
      impl,
      takesGet: kind === "unary" && handler.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS,
      // The limits connect-node's handlers use (validateReadWriteMaxBytes fills in writeMaxBytes).
      serialization: createMethodSerializationLookup(
        handler.method,
        options.binaryOptions,
        options.jsonOptions,
        validateReadWriteMaxBytes(options.readMaxBytes, undefined, options.compressMinBytes),
      ),
      handler,
    });
  }
  return table;
}

function pathOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}
