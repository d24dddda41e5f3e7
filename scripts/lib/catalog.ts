import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { HelloService } from "../../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { Movie } from "../../gen/tutorial/movie/movie_pb.js";
import { OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";

/** Every service the server registers, from the generated descriptors (the same list as server/routes.ts and app.ts). */
export const services: readonly DescService[] = [
  CalculatorService,
  GreeterService,
  MovieService,
  OrderService,
  Calculator,
  Greeter,
  HelloService,
  Movie,
  TutorialOrderService,
  Health,
  ReflectionV1,
  ReflectionV1Alpha,
];

export interface Procedure {
  /** "/package.Service/Method", the HTTP path. */
  readonly path: string;
  readonly method: DescMethod;
  /** Side-effect-free unary methods also answer Connect GET. */
  readonly getAllowed: boolean;
  /**
   * A stream that may legitimately run for a long time (a watch, greetings
   * with a delay): the client ends it after a while and judges what arrived.
   */
  readonly openEnded: boolean;
}

const openEndedMethods = new Set([
  "/order.v1.OrderService/WatchOrders",
  "/grpc.health.v1.Health/Watch",
  "/greeter.v1.GreeterService/LotsOfReplies",
]);

/** Every procedure of every service. */
export const procedures: readonly Procedure[] = services.flatMap((service) =>
  service.methods.map((method) => {
    const path = `/${service.typeName}/${method.name}`;
    return {
      path,
      method,
      getAllowed: method.methodKind === "unary" && method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS,
      openEnded: openEndedMethods.has(path),
    };
  }),
);

export function isStreaming(method: DescMethod): boolean {
  return method.methodKind !== "unary";
}
