import type { DescService } from "@bufbuild/protobuf";
import { type ConnectRouter, createServiceImplSpec, type ServiceImpl, type ServiceImplSpec } from "@connectrpc/connect";

/**
 * One service the server answers: its descriptor and implementation. The
 * server keeps a list of these (see serviceTable in routes.ts), and builds
 * both connect-node's handlers and the fast path's method table from it.
 */
export interface ServiceEntry {
  readonly service: DescService;
  /** The implementation, method by method (connect-es's own wrapping of it). */
  readonly spec: ServiceImplSpec;
  /** Registers the service on a router: connect-es's handlers for every protocol. */
  register(router: ConnectRouter): void;
}

/** The entry of `service` implemented by `impl`; the generic keeps the pair type-checked until it joins a list of services of every kind. */
export function serviceEntry<T extends DescService>(service: T, impl: Partial<ServiceImpl<T>>): ServiceEntry {
  return {
    service,
    spec: createServiceImplSpec(service, impl),
    register: (router) => {
      router.service(service, impl);
    },
  };
}
