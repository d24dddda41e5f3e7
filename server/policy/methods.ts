import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { HelloService } from "../../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { Movie } from "../../gen/tutorial/movie/movie_pb.js";
import { OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";

/** The scopes a token's `scope` claim can grant that a method may need (the table below). */
export type Scope = "movies:write" | "orders:write";

/**
 * What a method needs from its caller:
 * - "probe": nothing, ever; health checks come from load balancers that carry no token, and are never rate limited;
 * - "read": nothing, unless AUTH_REQUIRE_FOR_READS asks for a valid token;
 * - "write": a token with `scope`, because the method changes data.
 */
export type Access = { readonly kind: "probe" } | { readonly kind: "read" } | { readonly kind: "write"; readonly scope: Scope };

/** The rate-limit budget a call spends (RATE_LIMIT_WRITES or RATE_LIMIT_READS). */
export type Budget = "writes" | "reads";

/** Everything the server decides per method, in one place. */
export interface MethodPolicy {
  readonly access: Access;
  /** What a call spends: writes for a change, reads otherwise; probes spend nothing. */
  readonly budget: Budget | undefined;
  /** It answers from the database: its service reports NOT_SERVING while the database is unreachable. */
  readonly database: boolean;
  /**
   * Free of side effects, and its answer depends on the request alone, now
   * and forever (the square root of 2): any cache may keep a Connect GET
   * answer for a year. Other GET answers must be revalidated.
   */
  readonly immutable: boolean;
}

/** What the table below declares of one method; the rest follows from it. */
interface Declared {
  readonly access: Access;
  readonly immutable?: true;
}

const probe: Declared = { access: { kind: "probe" } };
const read: Declared = { access: { kind: "read" } };
const pure: Declared = { access: { kind: "read" }, immutable: true };
const write = (scope: Scope): Declared => ({ access: { kind: "write", scope } });

/** A method's full name, as reflection and the table below know it: "movie.v1.MovieService.CreateMovie". */
export function fullName(method: DescMethod): string {
  return `${method.parent.typeName}.${method.name}`;
}

/**
 * Every method of one service with its policy. The mapped type lists each
 * method of the generated service, so a method added to a .proto file does
 * not compile until it is classified here.
 */
function classify<M extends GenServiceMethods>(
  service: GenService<M>,
  { database }: { readonly database: boolean },
  declared: { readonly [K in keyof M]: Declared },
): Array<[DescMethod, MethodPolicy]> {
  return service.methods.map((method) => {
    const { access, immutable = false } = declared[method.localName as keyof M];
    const budget = access.kind === "write" ? "writes" : access.kind === "read" ? "reads" : undefined;
    return [method, { access, budget, database, immutable }];
  });
}

const database = { database: true };
const stateless = { database: false };

/**
 * The one place that says, for every method the server answers, who may call
 * it, what it spends, whether it needs the database and how long its answer
 * may be cached; for the canonical contracts and the tutorials' alike (they
 * share the data). The tutorials' .proto files are not ours to change: what
 * the canonical ones say with `idempotency_level`, they get here.
 */
const table: ReadonlyMap<DescMethod, MethodPolicy> = new Map([
  ...classify(MovieService, database, {
    getMovie: read,
    listMovies: read,
    createMovie: write("movies:write"),
    updateMovie: write("movies:write"),
    deleteMovie: write("movies:write"),
  }),
  ...classify(OrderService, database, {
    createOrder: write("orders:write"),
    getOrder: read,
    updateOrder: write("orders:write"),
    deleteOrder: write("orders:write"),
    listOrders: read,
    watchOrders: read,
  }),
  ...classify(TutorialOrderService, database, {
    createOrder: write("orders:write"),
    readOrder: read,
    updateOrder: write("orders:write"),
    deleteOrder: write("orders:write"),
    listOrders: read,
  }),
  ...classify(Movie, database, { getMovieByID: read, getListMovies: read }),
  ...classify(CalculatorService, stateless, { squareRoot: pure, add: pure, subtract: pure, multiply: pure, divide: pure }),
  ...classify(GreeterService, stateless, {
    sayHello: pure,
    sayHelloAgain: pure,
    lotsOfReplies: read,
    lotsOfGreetings: read,
    bidiHello: read,
  }),
  ...classify(Calculator, stateless, { squareRoot: read }),
  ...classify(Greeter, stateless, { sayHello: read, sayHelloAgain: read }),
  ...classify(HelloService, stateless, { sayHello: read }),
  ...classify(Health, stateless, { check: probe, watch: probe, list: probe }),
  ...classify(ServerReflectionV1, stateless, { serverReflectionInfo: read }),
  ...classify(ServerReflectionV1Alpha, stateless, { serverReflectionInfo: read }),
]);

const classified: ReadonlySet<string> = new Set([...table.keys()].map(fullName));

/** The full names of every method the table classifies. */
export function classifiedMethods(): readonly string[] {
  return [...classified];
}

/** A method's policy; undefined for a method nobody classified (refused, never public). Keyed by descriptor: no string built per call. */
export function policyOf(method: DescMethod): MethodPolicy | undefined {
  return table.get(method);
}

/** The services whose methods answer from the database, by full name: their health follows it. */
export function databaseBackedServices(): string[] {
  return [...new Set([...table].filter(([, policy]) => policy.database).map(([method]) => method.parent.typeName))];
}

/** Full names of the methods of `services` that the table does not classify. */
export function unclassifiedMethods(services: Iterable<DescService>): string[] {
  return [...services].flatMap((service) => service.methods.map(fullName)).filter((name) => !classified.has(name));
}

/**
 * Why the policies of `services` are wrong, one line each: a method the
 * table does not classify (a new method that changes data must never be
 * silently public, nor a new read silently refused), or one its contract
 * declares free of side effects (so anyone may call it with GET) that the
 * table says changes data, or an immutable answer from a method GET cannot
 * reach.
 */
export function policyProblems(
  services: Iterable<DescService>,
  lookup: (method: DescMethod) => MethodPolicy | undefined = policyOf,
): string[] {
  const all = [...services];
  const problems: string[] = [];
  for (const method of all.flatMap((service) => service.methods)) {
    const policy = lookup(method);
    if (policy === undefined) problems.push(`no access rule for ${fullName(method)}`);
    const sideEffectFree = method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
    if (policy?.access.kind === "write" && sideEffectFree) {
      problems.push(`${fullName(method)} is declared free of side effects (idempotency_level) but classified as a write`);
    }
    if (policy?.immutable === true && (!sideEffectFree || method.methodKind !== "unary")) {
      problems.push(`${fullName(method)} is classified immutable but cannot be called with GET (a unary method with NO_SIDE_EFFECTS)`);
    }
  }
  return problems;
}

/** Stops the server at start unless every method of `services` has a consistent policy (see policyProblems). */
export function assertClassified(services: Iterable<DescService>): void {
  const problems = policyProblems(services);
  if (problems.length > 0) throw new Error(`${problems.join("; ")}: classify every method in server/policy/methods.ts`);
}
