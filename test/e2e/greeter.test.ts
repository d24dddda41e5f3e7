import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { HelloService } from "../../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { rejection } from "../support/assert.js";
import { protocolCases, startTestServer } from "../support/server.js";

const server = await startTestServer();
const protocols = protocolCases(server.baseUrl);
after(async () => {
  protocols.close();
  await server.shutdown();
});

describe("greeter over every protocol", () => {
  for (const { name, protocol, http, get, transport } of protocols.cases) {
    test(name, async () => {
      const greeter = createClient(GreeterService, transport);

      assert.equal((await greeter.sayHello({ name: "Ada" })).message, "Hello, Ada!");
      assert.equal((await greeter.sayHelloAgain({ name: "Ada" })).message, "Hello again, Ada!");
      assert.equal((await greeter.sayHello({ name: "なんしー" })).message, "Hello, なんしー!");
      // Ten characters a person sees, though 30 UTF-8 bytes and 20 UTF-16 units.
      assert.equal((await greeter.sayHello({ name: `${"なんしー".repeat(2)}ab` })).message, "Hello, なんしーなんしーab!");
      assert.equal((await greeter.sayHello({ name: "👍🏽".repeat(10) })).message, `Hello, ${"👍🏽".repeat(10)}!`);

      const long = await rejection(greeter.sayHello({ name: "Bartholomew" }));
      assert.equal(long.code, Code.InvalidArgument);
      assert.equal(long.rawMessage, "name cannot be more than 10 characters, got 11");

      const longAgain = await rejection(greeter.sayHelloAgain({ name: "なんしー".repeat(3) }));
      assert.equal(longAgain.code, Code.InvalidArgument);
      assert.match(longAgain.rawMessage, /more than 10 characters, got 12/);

      const empty = await rejection(greeter.sayHello({ name: "" }));
      assert.equal(empty.code, Code.InvalidArgument);
      assert.equal(empty.rawMessage, "name must not be empty");

      const helloworld = createClient(Greeter, transport);
      assert.equal((await helloworld.sayHello({ name: "Ada" })).message, "Hello, Ada!");
      assert.equal((await helloworld.sayHelloAgain({ name: "Ada" })).message, "Hello again, Ada!");
      const helloworldLong = await rejection(helloworld.sayHello({ name: "Bartholomew" }));
      assert.equal(helloworldLong.code, Code.InvalidArgument);
      assert.match(helloworldLong.rawMessage, /more than 10 characters, got 11/);

      const hello = createClient(HelloService, transport);
      assert.equal((await hello.sayHello({ name: "なんしー" })).message, "こんにちは, なんしー");
      const helloEmpty = await rejection(hello.sayHello({ name: "" }));
      assert.equal(helloEmpty.code, Code.InvalidArgument);

      const logged = server.callLogs("/greeter.v1.GreeterService/SayHello").at(-1);
      assert.equal(logged?.protocol, protocol);
      assert.equal(logged?.http, http);
      assert.equal(logged?.method, get ? "GET" : "POST");
      assert.equal(logged?.code, "invalid_argument");
      assert.equal(server.callLogs("/helloworld.Greeter/SayHelloAgain").at(-1)?.code, "ok");
      assert.equal(server.callLogs("/hello.HelloService/SayHello").at(-1)?.protocol, protocol);
    });
  }
});
