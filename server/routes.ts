import type { ConnectRouter } from "@connectrpc/connect";
import { CalculatorService } from "../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../gen/greeter/v1/greeter_pb.js";
import { MovieService } from "../gen/movie/v1/movie_pb.js";
import { OrderService } from "../gen/order/v1/order_pb.js";
import { Calculator } from "../gen/tutorial/calculator/calculator_pb.js";
import { HelloService } from "../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../gen/tutorial/helloworld/helloworld_pb.js";
import { Movie } from "../gen/tutorial/movie/movie_pb.js";
import { OrderService as TutorialOrderService } from "../gen/tutorial/order/order_pb.js";
import type { Movies } from "./domain/movies.js";
import type { Orders } from "./domain/orders.js";
import type { RateLimiters } from "./rate-limit/limiters.js";
import { calculatorService } from "./services/calculator.js";
import { greeterService } from "./services/greeter.js";
import { movieService } from "./services/movie.js";
import { orderService } from "./services/order.js";
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

/** The services that answer from the database, by full name: their health follows it. */
export const databaseBackedServices: readonly string[] = [
  MovieService.typeName,
  OrderService.typeName,
  Movie.typeName,
  TutorialOrderService.typeName,
];

/** Every service the server answers, canonical contracts first, then the tutorials'. */
export function createRoutes({ movies, orders }: RouteDependencies): (router: ConnectRouter) => void {
  return (router) => {
    router.service(CalculatorService, calculatorService);
    router.service(GreeterService, greeterService);
    router.service(MovieService, movieService(movies));
    router.service(OrderService, orderService(orders));

    router.service(Calculator, tutorialCalculatorService);
    router.service(Greeter, helloworldGreeterService);
    router.service(HelloService, helloService);
    router.service(Movie, tutorialMovieService(movies));
    router.service(TutorialOrderService, tutorialOrderService(orders));
  };
}
