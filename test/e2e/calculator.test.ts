import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { rejection } from "../support/assert.js";
import { protocolCases, startTestServer } from "../support/server.js";

const server = await startTestServer();
const protocols = protocolCases(server.baseUrl);
after(async () => {
  protocols.close();
  await server.shutdown();
});

describe("calculator over every protocol", () => {
  for (const { name, protocol, http, get, transport } of protocols.cases) {
    test(name, async () => {
      const calculator = createClient(CalculatorService, transport);

      assert.equal((await calculator.squareRoot({ number: 16 })).result, 4);
      assert.equal((await calculator.squareRoot({ number: 2 })).result, Math.SQRT2);
      assert.equal((await calculator.add({ a: 0.1, b: 0.2 })).result, 0.1 + 0.2);
      assert.equal((await calculator.subtract({ a: 1, b: 3 })).result, -2);
      assert.equal((await calculator.multiply({ a: -2.5, b: 4 })).result, -10);
      assert.equal((await calculator.divide({ a: 1, b: 8 })).result, 0.125);

      const negative = await rejection(calculator.squareRoot({ number: -4 }));
      assert.equal(negative.code, Code.InvalidArgument);
      assert.match(negative.rawMessage, /negative.*-4/);

      const nan = await rejection(calculator.squareRoot({ number: NaN }));
      assert.equal(nan.code, Code.InvalidArgument);
      assert.match(nan.rawMessage, /finite.*NaN/);

      const infinite = await rejection(calculator.add({ a: 1, b: Infinity }));
      assert.equal(infinite.code, Code.InvalidArgument);
      assert.match(infinite.rawMessage, /b must be a finite number, got Infinity/);

      const byZero = await rejection(calculator.divide({ a: 1, b: 0 }));
      assert.equal(byZero.code, Code.InvalidArgument);
      assert.match(byZero.rawMessage, /divide by zero/);

      const overflow = await rejection(calculator.multiply({ a: 1e308, b: 10 }));
      assert.equal(overflow.code, Code.OutOfRange);

      const tutorial = createClient(Calculator, transport);
      assert.equal((await tutorial.squareRoot({ value: 2 })).value, Math.fround(Math.SQRT2));
      const tutorialNegative = await rejection(tutorial.squareRoot({ value: -1 }));
      assert.equal(tutorialNegative.code, Code.InvalidArgument);
      assert.match(tutorialNegative.rawMessage, /value is -1/);

      const logged = server.callLogs("/calculator.v1.CalculatorService/Divide").at(-1);
      assert.equal(logged?.protocol, protocol);
      assert.equal(logged?.http, http);
      assert.equal(logged?.method, get ? "GET" : "POST");
    });
  }
});
