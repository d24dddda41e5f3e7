import type { ConnectRouter } from "@connectrpc/connect";
import { CalculatorService } from "../gen/calculator/v1/calculator_pb.js";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { GreeterService } from "../gen/greeter/v1/greeter_pb.js";
import { Health } from "../gen/health/v1/health_pb.js";
import { MovieService } from "../gen/movie/v1/movie_pb.js";
import { OrderService } from "../gen/order/v1/order_pb.js";
import { Calculator } from "../gen/tutorial/calculator/calculator_pb.js";
import { HelloService } from "../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../gen/tutorial/helloworld/helloworld_pb.js";
import { Movie } from "../gen/tutorial/movie/movie_pb.js";
import { OrderService as TutorialOrderService } from "../gen/tutorial/order/order_pb.js";
import type { Movies } from "./domain/movies.js";
import type { Orders } from "./domain/orders.js";
import type { HealthRegistry } from "./health/registry.js";
import { healthService } from "./health/service.js";
import type { RateLimiters } from "./rate-limit/limiters.js";
import { reflectionServices } from "./reflection/service.js";
import { calculatorService } from "./services/calculator.js";
import { greeterService } from "./services/greeter.js";
import { movieService } from "./services/movie.js";
import { orderService } from "./services/order.js";
import { type ServiceEntry, serviceEntry } from "./services/registry.js";
import { tutorialCalculatorService } from "./services/tutorial/calculator.js";
import { helloService } from "./services/tutorial/hello.js";
import { helloworldGreeterService } from "./services/tutorial/helloworld.js";
import { tutorialMovieService } from "./services/tutorial/movie.js";
import { tutorialOrderService } from "./services/tutorial/order.js";
import type { DatabaseHealth } from "./storage/health.js";

/** What the stateful services need, built once at start by startServer. */
export interface RouteDependencies {
  readonly movies: Movies;
  readonly orders: Orders;
  /** Whether the database behind Movie and Order answers now (for health checks). */
  readonly databaseHealth: DatabaseHealth;
  /** Every caller's budgets, counted where every replica sees them (for the rate-limit interceptor). */
  readonly rateLimiters: RateLimiters;
}

/** The services of the API, canonical contracts first, then the tutorials'. */
export function contractServices({ movies, orders }: RouteDependencies): ServiceEntry[] {
  return [
    serviceEntry(CalculatorService, calculatorService),
    serviceEntry(GreeterService, greeterService),
    serviceEntry(MovieService, movieService(movies)),
    serviceEntry(OrderService, orderService(orders)),

    serviceEntry(Calculator, tutorialCalculatorService),
    serviceEntry(Greeter, helloworldGreeterService),
    serviceEntry(HelloService, helloService),
    serviceEntry(Movie, tutorialMovieService(movies)),
    serviceEntry(TutorialOrderService, tutorialOrderService(orders)),
  ];
}

/**
 * Every service the server answers, built once at start: the API's, then the
 * gRPC tooling's. Reflection comes last: it describes everything here (itself
 * included), plus the error detail types so tools can decode details.
 */
export function serviceTable({
  dependencies,
  health,
  reflection,
}: {
  readonly dependencies: RouteDependencies;
  readonly health: HealthRegistry;
  readonly reflection: boolean;
}): readonly ServiceEntry[] {
  const table = [...contractServices(dependencies), serviceEntry(Health, healthService(health))];
  if (!reflection) return table;
  const all: ServiceEntry[] = [];
  all.push(...table, ...reflectionServices(() => all.map((entry) => entry.service), [file_google_rpc_error_details]));
  return all;
}

/** The API's services on `router` (for tests that serve them in memory). */
export function createRoutes(dependencies: RouteDependencies): (router: ConnectRouter) => void {
  return (router) => {
    for (const entry of contractServices(dependencies)) entry.register(router);
  };
}
