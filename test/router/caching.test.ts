import assert from "node:assert/strict";
import { test } from "node:test";
import type { DescMethod } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { cachingInterceptor } from "../../server/interceptors/caching.js";
import { calculatorService } from "../../server/services/calculator.js";

function calculatorOver(useHttpGet: boolean, isImmutable?: (method: DescMethod) => boolean) {
  const transport = createRouterTransport((router) => router.service(CalculatorService, calculatorService), {
    router: { interceptors: [cachingInterceptor(isImmutable)] },
    transport: { useHttpGet },
  });
  return createClient(CalculatorService, transport);
}

async function headersOf(call: (options: { onHeader(header: Headers): void }) => Promise<unknown>): Promise<Headers> {
  let received = new Headers();
  await call({ onHeader: (header) => (received = header) });
  return received;
}

test("a pure method fetched with GET may be cached for a year", async () => {
  const calculator = calculatorOver(true);
  const header = await headersOf((options) => calculator.squareRoot({ number: 2 }, options));
  assert.equal(header.get("cache-control"), "public, max-age=31536000, immutable");
  assert.match(header.get("etag") ?? "", /^W\/"[\w-]{32}"$/);
  assert.equal(header.get("vary"), "Accept-Encoding");
});

test("data that may change must be revalidated, with an ETag that follows the answer", async () => {
  const calculator = calculatorOver(true, () => false);
  const two = await headersOf((options) => calculator.squareRoot({ number: 4 }, options));
  const twoAgain = await headersOf((options) => calculator.squareRoot({ number: 4 }, options));
  const three = await headersOf((options) => calculator.squareRoot({ number: 9 }, options));
  assert.equal(two.get("cache-control"), "no-cache");
  assert.equal(two.get("etag"), twoAgain.get("etag"));
  assert.notEqual(two.get("etag"), three.get("etag"));
});

test("POST answers carry no caching headers", async () => {
  const calculator = calculatorOver(false);
  const header = await headersOf((options) => calculator.squareRoot({ number: 2 }, options));
  assert.equal(header.get("cache-control"), null);
  assert.equal(header.get("etag"), null);
});
