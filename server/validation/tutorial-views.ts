import { create, type DescMessage, isMessage, type Message, type MessageShape } from "@bufbuild/protobuf";
import { SquareRootRequestSchema } from "../../gen/calculator/v1/calculator_pb.js";
import { SayHelloRequestSchema } from "../../gen/greeter/v1/greeter_pb.js";
import { GetMovieRequestSchema } from "../../gen/movie/v1/movie_pb.js";
import {
  CreateOrderRequestSchema,
  DeleteOrderRequestSchema,
  GetOrderRequestSchema,
  UpdateOrderRequestSchema,
} from "../../gen/order/v1/order_pb.js";
import { NumberSchema } from "../../gen/tutorial/calculator/calculator_pb.js";
import { HelloRequestSchema as JapaneseHelloRequestSchema } from "../../gen/tutorial/hello/hello_pb.js";
import { HelloRequestSchema } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { MovieIDSchema } from "../../gen/tutorial/movie/movie_pb.js";
import {
  ReadOrderRequestSchema,
  CreateOrderRequestSchema as TutorialCreateOrderRequestSchema,
  DeleteOrderRequestSchema as TutorialDeleteOrderRequestSchema,
  UpdateOrderRequestSchema as TutorialUpdateOrderRequestSchema,
} from "../../gen/tutorial/order/order_pb.js";
import type { CanonicalRequest, CanonicalViews } from "./request-rules.js";

/**
 * The tutorials' requests as the canonical requests their services answer
 * with the same domain, so the canonical contracts' rules apply to them and
 * their clients get the errors they always got, in their own field names.
 * Requests with nothing to check (listings) have no view. Each view is
 * what the tutorial's service (services/tutorial/) passes to the domain.
 */
export const tutorialViews: CanonicalViews = new Map([
  view(NumberSchema, ({ value }) => ({
    schema: SquareRootRequestSchema,
    message: create(SquareRootRequestSchema, { number: value }),
    renamed: { number: "value" },
  })),
  // helloworld's SayHello and SayHelloAgain share one request; both greet by the same rules.
  view(HelloRequestSchema, ({ name }) => ({ schema: SayHelloRequestSchema, message: create(SayHelloRequestSchema, { name }) })),
  view(JapaneseHelloRequestSchema, ({ name }) => ({ schema: SayHelloRequestSchema, message: create(SayHelloRequestSchema, { name }) })),
  view(MovieIDSchema, ({ id }) => ({ schema: GetMovieRequestSchema, message: create(GetMovieRequestSchema, { id }) })),
  // Its date is a string the service parses; the canonical one is a Timestamp.
  view(TutorialCreateOrderRequestSchema, ({ name, completed }) => ({
    schema: CreateOrderRequestSchema,
    message: create(CreateOrderRequestSchema, { name, completed }),
  })),
  view(ReadOrderRequestSchema, ({ uuid }) => ({
    schema: GetOrderRequestSchema,
    message: create(GetOrderRequestSchema, { id: uuid }),
    renamed: { id: "uuid" },
  })),
  // An empty name leaves the name as it is.
  view(TutorialUpdateOrderRequestSchema, ({ uuid, name }) => ({
    schema: UpdateOrderRequestSchema,
    message: create(UpdateOrderRequestSchema, { id: uuid, name: name === "" ? undefined : name }),
    renamed: { id: "uuid" },
  })),
  view(TutorialDeleteOrderRequestSchema, ({ uuid }) => ({
    schema: DeleteOrderRequestSchema,
    message: create(DeleteOrderRequestSchema, { id: uuid }),
    renamed: { id: "uuid" },
  })),
]);

function view<S extends DescMessage>(
  schema: S,
  canonical: (message: MessageShape<S>) => CanonicalRequest,
): [string, (message: Message) => CanonicalRequest] {
  return [
    schema.typeName,
    (message) => {
      if (!isMessage(message, schema)) throw new Error(`expected a ${schema.typeName}, got a ${message.$typeName}`);
      return canonical(message);
    },
  ];
}
