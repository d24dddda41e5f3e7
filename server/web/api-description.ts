import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { AuthConfig } from "../config.js";
import { type Access, fullName, policyOf } from "../policy/methods.js";

/** What the server reads and adds in the generated document: each operation's method, and its `security`. */
export interface ApiDescription {
  readonly paths: Record<string, Record<string, DescribedOperation>>;
  readonly components: Record<string, unknown>;
  readonly [key: string]: unknown;
}

interface DescribedOperation {
  /** The RPC the operation calls, "package.Service.Method" (see tools/protoc-gen-openapi). */
  readonly "x-rpc-method": string;
  readonly [key: string]: unknown;
}

type SecurityRequirement = Record<string, string[]>;

const bearer = "bearer";

/**
 * The document tools/protoc-gen-openapi generated from the contracts, loaded
 * when first asked for: it is of no use to most calls, and the JSON is kept
 * out of the start-up path (a chunk of its own in the bundle).
 */
export async function generatedApiDescription(): Promise<ApiDescription> {
  const { default: generated } = await import("../../gen/openapi/openapi.json", { with: { type: "json" } });
  return generated;
}

/**
 * The generated document with who may call each operation. The generator
 * describes the contracts alone; access is the server's to add, here, at
 * start, rather than the plugin's to import, for two reasons: what a read
 * needs depends on this server's configuration (no token at all with
 * authentication off, an optional one by default, a required one with
 * AUTH_REQUIRE_FOR_READS), and the access table (server/policy/methods.ts)
 * is keyed by the generated descriptors, which do not exist yet when the
 * plugin runs. Each operation names its method, and the table says the rest:
 * the one place either path of a call reads it from.
 *
 * Throws if an operation names a method the server does not serve, or one
 * the table does not classify.
 */
export function describeAccess(generated: ApiDescription, services: Iterable<DescService>, auth: AuthConfig): ApiDescription {
  const methods = new Map<string, DescMethod>();
  for (const service of services) for (const method of service.methods) methods.set(fullName(method), method);
  const paths = Object.fromEntries(
    Object.entries(generated.paths).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item).map(([httpMethod, operation]) => {
          const method = methods.get(operation["x-rpc-method"]);
          const access = method === undefined ? undefined : policyOf(method)?.access;
          if (access === undefined) {
            throw new Error(
              `the API description's ${httpMethod.toUpperCase()} ${path} calls ${operation["x-rpc-method"]}, which is not served or has no access rule`,
            );
          }
          return [httpMethod, { ...operation, security: securityOf(access, auth) }];
        }),
      ),
    ]),
  );
  if (auth.mode === "off") return { ...generated, paths };
  const securitySchemes = {
    [bearer]: {
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
      description:
        "A JWT in `Authorization: Bearer <token>`. An operation that changes data lists the scope its token's `scope` claim must hold; reads accept a token" +
        (auth.requireForReads ? " and need one." : " and work without one."),
    },
  };
  return { ...generated, paths, components: { ...generated.components, securitySchemes } };
}

function securityOf(access: Access, auth: AuthConfig): SecurityRequirement[] {
  if (auth.mode === "off" || access.kind === "probe") return [];
  if (access.kind === "write") return [{ [bearer]: [access.scope] }];
  // An empty requirement makes the token optional; with one, orders are the caller's own.
  return auth.requireForReads ? [{ [bearer]: [] }] : [{}, { [bearer]: [] }];
}
