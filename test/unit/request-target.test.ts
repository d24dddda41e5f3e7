import assert from "node:assert/strict";
import * as http from "node:http";
import { Socket } from "node:net";
import { test } from "node:test";
import { checkRequestTarget } from "../../server/transport/request-target.js";

function request(url: string, host = "localhost:8080"): http.IncomingMessage {
  const req = new http.IncomingMessage(new Socket());
  req.url = url;
  req.httpVersion = "1.1";
  req.headers = { host };
  req.rawHeaders = ["Host", host];
  return req;
}

test("paths from the root are valid, whatever they hold", () => {
  for (const target of ["/", "/greeter.v1.GreeterService/SayHello", "/a?encoding=json&message=%7B%7D", "/a b", "/ü"]) {
    assert.equal(checkRequestTarget(request(target)), undefined, target);
  }
});

test("targets a URL parser reads as an authority are parsed, and refused when they do not parse", () => {
  for (const target of ["//[bad/x", "/\\[bad/x"]) {
    assert.equal(checkRequestTarget(request(target)), `the request target "${target}" is not a valid path`, target);
  }
  assert.equal(checkRequestTarget(request("//example.com/x")), undefined);
});

test("the Host header is checked on every request, also after a valid one", () => {
  assert.equal(checkRequestTarget(request("/", "localhost:8080")), undefined);
  assert.match(checkRequestTarget(request("/", "local host")) ?? "", /is not a valid host\[:port\]/);
  assert.match(checkRequestTarget(request("/", "localhost:99999")) ?? "", /is not a valid host\[:port\]/);
});
