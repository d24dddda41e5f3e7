/**
 * The import rules of the server and the page, checked by `npm run lint`
 * (`depcruise --config .dependency-cruiser.mjs server web/src`).
 *
 * The server's floors, top to bottom. A request's data flows down them and
 * so do imports: a floor may use the floors under it, never one above.
 *
 *   server/main.ts, run.ts, server.ts, app.ts  the composition root: reads the
 *                        config, builds everything below and wires it
 *                        together (routes.ts, dependencies.ts and
 *                        observability.ts wire one part each); nothing
 *                        imports it
 *   server/transport/    the listener: sockets, TLS, limits, HTTP/2 sessions;
 *                        it hands every request to a Dispatcher (the
 *                        interface in transport/http-handler.ts) and knows
 *                        no floor below it
 *   server/dispatch/     the dispatcher: the fast path or connect-node (through
 *                        our own adapter), for both HTTP versions
 *   server/fast-path/,   what the dispatcher dispatches to: the fast path for
 *   server/rest/,        hot calls, REST routes (which run their calls
 *   server/web/,         through the fast path's runner), the page, the API
 *   server/health/       description (OpenAPI, with access from the method
 *                        table), CORS, the probes (HTTP caching is the
 *                        caching interceptor's, applied on every path)
 *   server/pipeline/     the one call pipeline every call runs through, built
 *                        once for both paths: the interceptor chain, the
 *                        values a call starts with, the report of calls no
 *                        interceptor saw
 *   server/interceptors/ its stages: observability, guards, validation, the
 *                        call log, the error mapping, caching
 *   server/wire/         what requests and early answers may look like in each
 *                        protocol (JSON shape, Connect GET queries), for both paths
 *   server/auth/,        what the pipeline's stages use: tokens, scopes and
 *   server/rate-limit/,  the access table; per-caller budgets; metrics and
 *   server/observability/, traces; the contracts' request rules (protovalidate,
 *   server/validation/   and the tutorials' requests seen as canonical ones);
 *                        these know no interceptor
 *   server/routes.ts     which handler serves which service
 *   server/services/     the handlers: wire messages in, domain calls, wire
 *                        messages out
 *   server/domain/       the rules of calculators, movies and orders; knows
 *                        nothing of RPC, HTTP or databases
 *   server/storage/      Kysely over SQLite or PostgreSQL, behind the
 *                        repositories the domain defines
 *
 * The fast path uses a few of the listener's helpers (transport/grpc-message.ts,
 * contain-failures.ts, drain-request.ts, stream-resets.ts): the floor above
 * lends them down; the listener imports nothing back.
 *
 * Shared leaves anyone may import: the files at server/'s top such as
 * config.ts (settings) and the rules it checks (allowed-hosts.ts, secret-strength.ts, trusted-proxies.ts), logger.ts, gen/ (generated
 * protobuf code), type-only leaves such as transport/http-handler.ts, and the
 * keys of the values every call carries (pipeline/request-info.ts,
 * call-state.ts, binary-messages.ts), which the stages read. A
 * type used across folders lives with the folder that owns the concept, or in
 * a leaf of its own: never in a module that imports its users, since that is
 * how import circles start.
 *
 * The page (web/) talks to the server over the network only: it shares the
 * generated code in gen/, never a module of server/.
 *
 * Tests (test/) and tools (scripts/) may import anything; they are not
 * checked here.
 *
 * Type-only imports count: `import type` ties the files together for the
 * reader as much as a value import does. The swc parser reports them
 * (flagged "type-only"); dependency-cruiser's TypeScript parser, which would
 * need `tsPreCompilationDeps`, does not work with TypeScript 7.0.
 */

/** Every module of server/ except those under the given folders or files (paths relative to the repository root). */
const serverOutside = (...allowed) => `^server/(?!(${allowed.join("|")}))`;

export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Import circles, type-only imports included, hide which floor a file is on. Move the shared part to a leaf.",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import the checker cannot resolve is an edge it cannot check.",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "composition-root-on-top",
      severity: "error",
      comment: "Only main.ts (through run.ts) starts server.ts, and only server.ts builds app.ts: nothing below them imports them.",
      from: { path: "^server/", pathNot: "^server/(main|run|server)[.]ts$" },
      to: { path: "^server/(main|run|server|app)[.]ts$" },
    },
    {
      name: "config-is-a-leaf",
      severity: "error",
      comment:
        "Every floor reads its settings from config.ts, so config.ts imports no floor: only shared leaves at server/ and its own declarations in server/config/, which import nothing else.",
      from: { path: "^server/config([.]ts$|/)" },
      to: { path: "^server/[^/]+/", pathNot: "^server/config/" },
    },
    {
      name: "auth-below-the-pipeline",
      severity: "error",
      comment: "Tokens, scopes and budgets are what the pipeline's guards use; the guards themselves live in interceptors/.",
      from: { path: "^server/(auth|rate-limit)/" },
      to: { path: "^server/(transport|dispatch|fast-path|web|health|interceptors|pipeline|wire|services|storage)/" },
    },
    {
      name: "validation-below-the-pipeline",
      comment: "The request rules are what the validation stage (interceptors/validation.ts) runs; they know no stage, handler or storage.",
      severity: "error",
      from: { path: "^server/validation/" },
      to: { path: "^server/(transport|dispatch|fast-path|web|health|interceptors|pipeline|services|storage)/" },
    },
    {
      name: "observability-below-the-pipeline",
      severity: "error",
      comment: "Metrics and traces are what the pipeline's interceptors use; server/observability.ts wires both together.",
      from: { path: "^server/observability/" },
      to: {
        path: "^server/(transport|dispatch|fast-path|web|health|interceptors|pipeline|wire|services)/",
        pathNot: "^server/transport/http-handler[.]ts$",
      },
    },
    {
      name: "domain-imports-nothing-of-the-server",
      severity: "error",
      comment: "The domain is plain rules: no wire, HTTP, pipeline or storage code.",
      from: { path: "^server/domain/" },
      to: { path: serverOutside("domain/") },
    },
    {
      name: "storage-below-the-call",
      severity: "error",
      comment: "Storage serves the domain; it knows no listener, dispatcher, pipeline, handler or composition root.",
      from: { path: "^server/storage/" },
      to: {
        path: "^server/((transport|dispatch|fast-path|web|health|interceptors|pipeline|wire|auth|rate-limit|services|reflection)/|(main|run|server|app|routes|dependencies)[.]ts$)",
      },
    },
    {
      name: "services-above-domain-only",
      severity: "error",
      comment: "Handlers reach storage through the domain's repositories, and know nothing of the listener or dispatcher.",
      from: { path: "^server/services/" },
      to: { path: "^server/(storage|transport|dispatch|fast-path|web)/" },
    },
    {
      name: "transport-knows-only-the-dispatcher-interface",
      severity: "error",
      comment:
        "The listener hands every request to a Dispatcher it knows by its interface (transport/http-handler.ts): it imports no other floor, only shared leaves.",
      from: { path: "^server/transport/" },
      to: { path: "^server/[^/]+/", pathNot: "^server/transport/" },
    },
    {
      name: "page-apart-from-server",
      severity: "error",
      comment: "The page talks to the server over the network; it shares only the generated code in gen/.",
      from: { path: "^web/" },
      to: { path: "^server/" },
    },
  ],
  options: {
    // The swc parser reads TypeScript and reports type-only imports too.
    parser: "swc",
    doNotFollow: { path: "node_modules" },
    // Resolve package subpaths ("@connectrpc/connect/protocol") through their exports maps.
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};
