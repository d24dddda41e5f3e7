import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderChangeType, OrderService } from "../../gen/order/v1/order_pb.js";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { HelloService } from "../../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { Movie } from "../../gen/tutorial/movie/movie_pb.js";
import { OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";
import type { Rng } from "../fuzz/rng.js";

/** What a scenario runs on: one protocol's transport, and whether it can stream both ways (HTTP/2). */
export interface Target {
  readonly name: string;
  readonly transport: Transport;
  readonly bidi: boolean;
}

/** A scenario makes a few calls and checks every answer; it returns the number of calls, or throws what was wrong. */
export type Scenario = (target: Target, rng: Rng, unique: () => string) => Promise<number>;

export class Unexpected extends Error {}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Unexpected(what);
}

/** Runs `call`, which must fail with `code`. */
async function expectCode(call: Promise<unknown>, code: Code, what: string): Promise<void> {
  try {
    await call;
  } catch (error) {
    const got = ConnectError.from(error).code;
    expect(got === code, `${what}: expected ${Code[code]}, got ${Code[got]}: ${ConnectError.from(error).rawMessage}`);
    return;
  }
  throw new Unexpected(`${what}: expected ${Code[code]}, got a success`);
}

async function* each<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

const names = ["Ada", "Bob", "なんしー", "Zoë", "Grace"];
/** One of the seeded movies (the soak never deletes it). */
const martian = "a8034f44-aee4-44cf-b32c-74cf452aaaae";

const calculator: Scenario = async ({ transport }, rng) => {
  const client = createClient(CalculatorService, transport);
  const a = rng.int(-1000, 1000);
  const b = rng.int(1, 1000);
  expect((await client.add({ a, b })).result === a + b, "Add");
  expect((await client.subtract({ a, b })).result === a - b, "Subtract");
  expect((await client.multiply({ a, b })).result === a * b, "Multiply");
  expect((await client.divide({ a, b })).result === a / b, "Divide");
  expect((await client.squareRoot({ number: b })).result === Math.sqrt(b), "SquareRoot");
  await expectCode(client.divide({ a, b: 0 }), Code.InvalidArgument, "Divide by zero");
  const tutorial = createClient(Calculator, transport);
  expect(Math.abs((await tutorial.squareRoot({ value: 16 })).value - 4) < 1e-6, "Calculator/SquareRoot");
  return 7;
};

const greeterUnary: Scenario = async ({ transport }, rng) => {
  const name = rng.pick(names);
  const greeter = createClient(GreeterService, transport);
  expect((await greeter.sayHello({ name })).message === `Hello, ${name}!`, "SayHello");
  expect((await greeter.sayHelloAgain({ name })).message === `Hello again, ${name}!`, "SayHelloAgain");
  await expectCode(greeter.sayHello({ name: "Bartholomew" }), Code.InvalidArgument, "SayHello with a long name");
  expect((await createClient(Greeter, transport).sayHello({ name })).message === `Hello, ${name}!`, "helloworld.Greeter/SayHello");
  expect((await createClient(HelloService, transport).sayHello({ name })).message === `こんにちは, ${name}`, "hello.HelloService/SayHello");
  return 5;
};

const greeterStreams: Scenario = async ({ transport, bidi }, rng) => {
  const greeter = createClient(GreeterService, transport);
  const name = rng.pick(names);
  const languages: string[] = [];
  for await (const reply of greeter.lotsOfReplies({ name, delayMs: rng.int(0, 5) })) languages.push(reply.language);
  expect(languages.join(",") === "en,fr,es,de,ja,ko,ru", `LotsOfReplies: ${languages.join(",")}`);
  const crowd = Array.from({ length: rng.int(1, 20) }, (_, i) => `${rng.pick(names)}${i}`);
  const together = await greeter.lotsOfGreetings(each(crowd.map((n) => ({ name: n.slice(0, 10) }))));
  expect(together.count === crowd.length, `LotsOfGreetings count ${together.count}`);
  if (!bidi) return 2;
  const answers: string[] = [];
  for await (const answer of greeter.bidiHello(each(crowd.map((n) => ({ name: n.slice(0, 10) }))))) answers.push(answer.message);
  expect(answers.length === crowd.length, `BidiHello answered ${answers.length} of ${crowd.length}`);
  return 3;
};

const movies: Scenario = async ({ transport }, rng, unique) => {
  const client = createClient(MovieService, transport);
  const id = `soak-${unique()}`;
  const title = `Soak ${id}`;
  const rating = rng.int(0, 100) / 10;
  const created = await client.createMovie({ id, title, director: "Nobody", rating });
  expect(created.movie?.id === id && created.movie.rating === rating, "CreateMovie");
  expect((await client.getMovie({ id })).movie?.title === title, "GetMovie");
  expect((await client.updateMovie({ id, rating: 10 - rating })).movie?.rating === Math.round((10 - rating) * 10) / 10, "UpdateMovie");
  const listed = [];
  for await (const answer of client.listMovies({ titleContains: id })) listed.push(answer.movie?.id);
  expect(listed.length === 1 && listed[0] === id, `ListMovies found ${listed.length}`);
  await client.deleteMovie({ id });
  await expectCode(client.getMovie({ id }), Code.NotFound, "GetMovie after DeleteMovie");
  const tutorial = createClient(Movie, transport);
  expect((await tutorial.getMovieByID({ id: martian })).title === "The Martian", "Movie/GetMovieByID");
  let count = 0;
  for await (const _ of tutorial.getListMovies({})) count++;
  expect(count >= 1, "Movie/GetListMovies");
  return 8;
};

const orders: Scenario = async ({ transport }, rng, unique) => {
  const client = createClient(OrderService, transport);
  const key = unique();
  const created = await client.createOrder({ name: `Soak ${key}`.slice(0, 100), completed: false, idempotencyKey: key });
  const order = created.order;
  expect(order !== undefined && order.etag !== "", "CreateOrder");
  if (order === undefined) return 1;
  const again = await client.createOrder({ name: `Soak ${key}`.slice(0, 100), completed: false, idempotencyKey: key });
  expect(again.order?.id === order.id, "CreateOrder retried with the same key");
  expect((await client.getOrder({ id: order.id })).order?.name === order.name, "GetOrder");
  const updated = await client.updateOrder({ id: order.id, completed: true, etag: order.etag });
  expect(updated.order?.completed === true, "UpdateOrder");
  await expectCode(client.updateOrder({ id: order.id, completed: false, etag: order.etag }), Code.Aborted, "UpdateOrder with a stale etag");
  const page = await client.listOrders({ pageSize: rng.int(1, 50) });
  expect(page.orders.length >= 1, "ListOrders");
  await client.deleteOrder({ id: order.id, etag: updated.order?.etag ?? "" });
  await expectCode(client.getOrder({ id: order.id }), Code.NotFound, "GetOrder after DeleteOrder");
  return 8;
};

const tutorialOrders: Scenario = async ({ transport }, _rng, unique) => {
  const client = createClient(TutorialOrderService, transport);
  const created = await client.createOrder({ name: `Tutorial ${unique()}`.slice(0, 100), completed: false, date: "2024-05-01" });
  const uuid = created.order?.uuid ?? "";
  expect(uuid !== "", "order.OrderService/CreateOrder");
  expect((await client.readOrder({ uuid })).order?.uuid === uuid, "ReadOrder");
  expect(
    (await client.updateOrder({ uuid, name: "Renamed", completed: true, date: "2024-05-02" })).order?.completed === true,
    "UpdateOrder",
  );
  await client.listOrders({});
  expect((await client.deleteOrder({ uuid })).success, "DeleteOrder");
  return 5;
};

/** A watch sees an order created through another call, then the client ends it. */
const watch: Scenario = async ({ transport }, _rng, unique) => {
  const client = createClient(OrderService, transport);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  let calls = 1;
  try {
    const stream = client.watchOrders({}, { signal: abort.signal })[Symbol.asyncIterator]();
    const first = await stream.next();
    expect(first.done !== true && first.value.started, "WatchOrders did not start");
    const key = unique();
    const created = await client.createOrder({ name: `Watched ${key}`.slice(0, 100), idempotencyKey: key });
    calls++;
    const id = created.order?.id;
    for (;;) {
      const next = await stream.next();
      expect(next.done !== true, "WatchOrders ended before showing the new order");
      if (next.done === true) break;
      if (next.value.type === OrderChangeType.CREATED && next.value.order?.id === id) break;
    }
    await client.deleteOrder({ id: id ?? "" });
    calls++;
    abort.abort();
  } catch (error) {
    if (error instanceof Unexpected) throw error;
    if (!abort.signal.aborted || ConnectError.from(error).code !== Code.Canceled) throw error;
  } finally {
    clearTimeout(timer);
  }
  return calls;
};

const tooling: Scenario = async ({ transport, bidi }) => {
  const health = await createClient(Health, transport).check({ service: "" });
  expect(health.status === HealthCheckResponse_ServingStatus.SERVING, "Health/Check");
  if (!bidi) return 1;
  const answers = [];
  for await (const answer of createClient(ServerReflection, transport).serverReflectionInfo(
    each([{ messageRequest: { case: "listServices" as const, value: "" } }]),
  ))
    answers.push(answer);
  expect(answers[0]?.messageResponse.case === "listServicesResponse", "ServerReflectionInfo");
  return 2;
};

/** Every scenario with its weight: mostly quick calls, sometimes the database, now and then a watch. */
export const scenarios: ReadonlyArray<readonly [string, Scenario, number]> = [
  ["calculator", calculator, 4],
  ["greeter unary", greeterUnary, 4],
  ["greeter streams", greeterStreams, 3],
  ["movies", movies, 2],
  ["orders", orders, 2],
  ["tutorial orders", tutorialOrders, 1],
  ["watch", watch, 1],
  ["tooling", tooling, 1],
];
