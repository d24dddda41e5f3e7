import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { serversOnEachEngine } from "../support/database.js";

/**
 * The tutorials' movie and order contracts through @grpc/grpc-js, loading the
 * .proto files at run time as the tutorials' own clients do: a gRPC stack
 * that shares no code with the server.
 */
const protoRoot = fileURLToPath(new URL("../../../proto/", import.meta.url));
const definition = protoLoader.loadSync(["tutorial/movie/movie.proto", "tutorial/order/order.proto"], {
  includeDirs: [protoRoot],
  keepCase: true,
  defaults: true,
  enums: String,
});
const loaded = grpc.loadPackageDefinition(definition);
type ClientConstructor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;
const MovieClient = loaded.Movie as unknown as ClientConstructor;
const OrderClient = (loaded.order as grpc.GrpcObject).OrderService as unknown as ClientConstructor;

interface MovieData {
  id: string;
  title: string;
  director: string;
  rating: number;
}
interface OrderData {
  uuid: string;
  name: string;
  completed: boolean;
  date: string;
}
interface OrderReply {
  notification_type: string;
  order?: OrderData;
  orders?: OrderData[];
  success?: boolean;
}

/** Calls a unary method and resolves with its answer or rejects with the grpc-js ServiceError. */
function unary<T>(client: grpc.Client, method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const call = (
      client as unknown as Record<string, (request: object, done: (error: grpc.ServiceError | null, reply: T) => void) => void>
    )[method];
    assert.ok(call, `no method ${method}`);
    call.call(client, request, (error, reply) => (error ? reject(error) : resolve(reply)));
  });
}

async function failure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  const error = await call.then(
    () => assert.fail("expected the call to fail"),
    (reason: unknown) => reason as grpc.ServiceError,
  );
  assert.equal(typeof error.code, "number");
  return error;
}

for (const { engine, server } of await serversOnEachEngine((name) => `tutorial contracts through @grpc/grpc-js on ${name}`)) {
  const address = `127.0.0.1:${server.port}`;
  const movies = new MovieClient(address, grpc.credentials.createInsecure());
  const orders = new OrderClient(address, grpc.credentials.createInsecure());
  after(() => {
    movies.close();
    orders.close();
  });

  describe(`tutorial contracts through @grpc/grpc-js on ${engine.name}`, () => {
    test("Movie: GetMovieByID and the GetListMovies stream", async () => {
      const martian = await unary<MovieData>(movies, "GetMovieByID", { id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" });
      assert.equal(martian.title, "The Martian");
      assert.equal(martian.director, "Ridley Scott");
      assert.equal(martian.rating, Math.fround(8.2));

      const missing = await failure(unary(movies, "GetMovieByID", { id: "no-such-movie" }));
      assert.equal(missing.code, grpc.status.NOT_FOUND);
      assert.match(missing.details, /no movie has id "no-such-movie"/);

      const titles = await new Promise<string[]>((resolve, reject) => {
        const received: string[] = [];
        const stream = (movies as unknown as { GetListMovies(request: object): grpc.ClientReadableStream<MovieData> }).GetListMovies({});
        stream.on("data", (movie: MovieData) => received.push(movie.title));
        stream.on("error", reject);
        stream.on("end", () => resolve(received));
      });
      assert.deepEqual(titles, [
        "Creed",
        "Spectre",
        "The Danish Girl",
        "The Good Dinosaur",
        "The Martian",
        "The Night Before",
        "Victor Frankenstein",
      ]);
    });

    test("order.OrderService: create, read, update, list, delete, and NOT_FOUND", async () => {
      const created = await unary<OrderReply>(orders, "CreateOrder", { name: "Noodles", completed: false, date: "" });
      assert.equal(created.notification_type, "ORDER_NOTIFICATION_TYPE_ENUM_OK");
      const order = created.order;
      assert.ok(order);
      assert.match(order.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

      const read = await unary<OrderReply>(orders, "ReadOrder", { uuid: order.uuid });
      assert.deepEqual(read.order, order);

      const updated = await unary<OrderReply>(orders, "UpdateOrder", {
        uuid: order.uuid,
        name: "Ramen",
        completed: true,
        date: "2024-01-02T03:04:05Z",
      });
      assert.equal(updated.notification_type, "ORDER_NOTIFICATION_TYPE_ENUM_OK");
      assert.deepEqual(updated.order, { uuid: order.uuid, name: "Ramen", completed: true, date: "2024-01-02T03:04:05.000Z" });

      const listed = await unary<OrderReply>(orders, "ListOrders", {});
      assert.equal(listed.notification_type, "ORDER_NOTIFICATION_TYPE_ENUM_OK");
      assert.ok(listed.orders?.some((candidate) => candidate.uuid === order.uuid && candidate.name === "Ramen"));

      const deleted = await unary<OrderReply>(orders, "DeleteOrder", { uuid: order.uuid });
      assert.deepEqual(deleted, { notification_type: "ORDER_NOTIFICATION_TYPE_ENUM_OK", success: true });

      const gone = await failure(unary(orders, "ReadOrder", { uuid: order.uuid }));
      assert.equal(gone.code, grpc.status.NOT_FOUND);
      assert.match(gone.details, new RegExp(`no order has id ${order.uuid}`));

      const unnamed = await failure(unary(orders, "CreateOrder", { name: "", completed: false, date: "" }));
      assert.equal(unnamed.code, grpc.status.INVALID_ARGUMENT);
      assert.match(unnamed.details, /^name is required/);
    });
  });
}
