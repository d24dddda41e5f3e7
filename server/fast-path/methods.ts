import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { type ConnectRouter, createServiceImplSpec } from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  type MethodSerializationLookup,
  type UniversalHandler,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";

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

/**
 * Records every service implementation registered on `router`, so the fast
 * path calls the very objects connect-node calls: `registerServices` stays
 * the one registration. Services registered with their own options (other
 * limits or interceptors) and single `rpc` registrations are left to
 * connect-node.
 */
export function recordImplementations(router: ConnectRouter): Map<string, MethodImpl> {
  const impls = new Map<string, MethodImpl>();
  const service = router.service.bind(router);
  router.service = ((desc, implementation, options) => {
    if (options === undefined) {
      const spec = createServiceImplSpec(desc, implementation);
      for (const method of desc.methods) {
        const methodSpec = spec.methods[method.localName];
        if (methodSpec?.kind === "unary" || methodSpec?.kind === "server_streaming") {
          impls.set(pathOf(method), methodSpec.impl as MethodImpl);
        }
      }
    }
    return service(desc, implementation, options);
  }) as ConnectRouter["service"];
  return impls;
}

/** The fast path's table, path → method: unary and server-streaming methods, each with connect-node's handler for the same path. */
export function methodTable(
  handlers: readonly UniversalHandler[],
  impls: ReadonlyMap<string, MethodImpl>,
  options: SerializationOptions,
): Map<string, FastMethod> {
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
