import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
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
 * The scope that reaches every owner's orders, not only the caller's own:
 * reading any order, and changing any with `orders:write` as well. No method
 * needs it: it widens which orders a call works on (the order services check
 * it), not whether the call is allowed.
 */
export const ordersAdminScope = "orders:admin";

/**
 * What a method needs from its caller:
 * - "probe": nothing, ever; health checks come from load balancers that carry no token, and are never rate limited;
 * - "read": nothing, unless AUTH_REQUIRE_FOR_READS asks for a valid token;
 * - "write": a token with `scope`, because the method changes data.
 */
export type Access = { readonly kind: "probe" } | { readonly kind: "read" } | { readonly kind: "write"; readonly scope: Scope };

const probe: Access = { kind: "probe" };
const read: Access = { kind: "read" };
const write = (scope: Scope): Access => ({ kind: "write", scope });

/** A method's full name, as reflection and the table below know it: "movie.v1.MovieService.CreateMovie". */
export function fullName(method: DescMethod): string {
  return `${method.parent.typeName}.${method.name}`;
}

/**
 * Every method of one service with its access. The mapped type lists each
 * method of the generated service, so a method added to a .proto file does
 * not compile until it is classified here.
 */
function classify<M extends GenServiceMethods>(
  service: GenService<M>,
  access: { readonly [K in keyof M]: Access },
): Array<[string, Access]> {
  return service.methods.map((method) => [fullName(method), access[method.localName as keyof M]]);
}

/**
 * The one place that says which methods change data and which scope allows
 * them, for the canonical contracts and the tutorials' alike (they share the
 * data). Keyed by full method name. A registered service missing from it
 * stops the server at start (see unclassifiedMethods).
 */
export const accessTable: ReadonlyMap<string, Access> = new Map([
  ...classify(MovieService, {
    getMovie: read,
    listMovies: read,
    createMovie: write("movies:write"),
    updateMovie: write("movies:write"),
    deleteMovie: write("movies:write"),
  }),
  ...classify(OrderService, {
    createOrder: write("orders:write"),
    getOrder: read,
    updateOrder: write("orders:write"),
    deleteOrder: write("orders:write"),
    listOrders: read,
    watchOrders: read,
  }),
  ...classify(TutorialOrderService, {
    createOrder: write("orders:write"),
    readOrder: read,
    updateOrder: write("orders:write"),
    deleteOrder: write("orders:write"),
    listOrders: read,
  }),
  ...classify(Movie, { getMovieByID: read, getListMovies: read }),
  ...classify(CalculatorService, { squareRoot: read, add: read, subtract: read, multiply: read, divide: read }),
  ...classify(GreeterService, { sayHello: read, sayHelloAgain: read, lotsOfReplies: read, lotsOfGreetings: read, bidiHello: read }),
  ...classify(Calculator, { squareRoot: read }),
  ...classify(Greeter, { sayHello: read, sayHelloAgain: read }),
  ...classify(HelloService, { sayHello: read }),
  ...classify(Health, { check: probe, watch: probe, list: probe }),
  ...classify(ServerReflectionV1, { serverReflectionInfo: read }),
  ...classify(ServerReflectionV1Alpha, { serverReflectionInfo: read }),
]);

/** The access a method needs; undefined for a method nobody classified (refused, never public). */
export function accessOf(method: DescMethod): Access | undefined {
  return accessTable.get(fullName(method));
}

/** Full names of the methods of `services` that the table does not classify. */
export function unclassifiedMethods(services: Iterable<DescService>): string[] {
  return [...services].flatMap((service) => service.methods.map(fullName)).filter((name) => !accessTable.has(name));
}

/**
 * Stops the server at start when a registered service has a method the table
 * does not classify: a new method that changes data must never be silently
 * public, nor a new read silently refused.
 */
export function assertClassified(services: Iterable<DescService>): void {
  const missing = unclassifiedMethods(services);
  if (missing.length > 0) {
    throw new Error(`no access rule for ${missing.join(", ")}: classify every method in server/auth/access.ts`);
  }
}
