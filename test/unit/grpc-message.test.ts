import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeGrpcMessage } from "../../server/transport/grpc-message.js";

test("grpc-message encoding escapes only what the gRPC spec requires", () => {
  assert.equal(encodeGrpcMessage("name cannot be more than 10 characters, got 11"), "name cannot be more than 10 characters, got 11");
  assert.equal(encodeGrpcMessage('a/b?c:d;e="f" #g'), 'a/b?c:d;e="f" #g');
  assert.equal(encodeGrpcMessage("100%"), "100%25");
  assert.equal(encodeGrpcMessage("line\nbreak\ttab"), "line%0Abreak%09tab");
  assert.equal(encodeGrpcMessage("なんしー"), "%E3%81%AA%E3%82%93%E3%81%97%E3%83%BC");
});

test("what decodeURI (grpc-js) and decodeURIComponent (connect-es) read back is the original", () => {
  for (const text of ["cannot divide by zero: b is 0", "100% sure, a+b=c & d$", "こんにちは, なんしー", "tab\tand \u0001 control"]) {
    assert.equal(decodeURI(encodeGrpcMessage(text)), text);
    assert.equal(decodeURIComponent(encodeGrpcMessage(text)), text);
  }
});
