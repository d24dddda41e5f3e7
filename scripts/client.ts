/**
 * A small gRPC client for this server, the TypeScript counterpart of the
 * tutorials' client.py: it uses the clients generated from proto/ over gRPC
 * (HTTP/2) and prints what comes back.
 *
 *   npm run client                                  # http://localhost:8080
 *   npm run client -- --url http://host:port --name Ada
 *
 * For https URLs with a private CA, point NODE_EXTRA_CA_CERTS at its PEM file.
 */
import { parseArgs } from "node:util";
import { ConnectError, createClient } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { CalculatorService } from "../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../gen/greeter/v1/greeter_pb.js";

const { values: options } = parseArgs({
  options: {
    url: { type: "string", default: "http://localhost:8080" },
    name: { type: "string", default: "World" },
  },
});
const baseUrl = options.url;
const name = options.name;

const sessionManager = new Http2SessionManager(baseUrl);
const transport = createGrpcTransport({ baseUrl, sessionManager });
const calculator = createClient(CalculatorService, transport);
const greeter = createClient(GreeterService, transport);

/** Prints a failed call the way gRPC tools do: CODE: message. */
function describeFailure(error: unknown): string {
  const connectError = ConnectError.from(error);
  return `${codeToString(connectError.code).toUpperCase()}: ${connectError.rawMessage}`;
}

try {
  for (const number of [16, 2, -4]) {
    try {
      const { result } = await calculator.squareRoot({ number });
      console.log(`SquareRoot(${number}) = ${result}`);
    } catch (error) {
      console.log(`SquareRoot(${number}) failed: ${describeFailure(error)}`);
    }
  }

  console.log((await greeter.sayHello({ name })).message);
  console.log((await greeter.sayHelloAgain({ name })).message);

  console.log(`LotsOfReplies(${name}), one message at a time:`);
  for await (const reply of greeter.lotsOfReplies({ name, delayMs: 200 })) {
    console.log(`  [${reply.language}] ${reply.message}`);
  }
} catch (error) {
  console.error(`cannot talk to ${baseUrl}: ${describeFailure(error)}`);
  process.exitCode = 1;
} finally {
  sessionManager.abort();
}
