import assert from "node:assert/strict";
import { test } from "node:test";
import { EnvelopeCounter } from "../../server/transport/budgeted-body.js";

// The upload budget counts a stream's unfinished message only: it must find
// where enveloped messages end, whatever the chunks.

function envelope(length: number): Uint8Array {
  const bytes = new Uint8Array(5 + length).fill(0x61);
  bytes[0] = 0;
  new DataView(bytes.buffer).setUint32(1, length);
  return bytes;
}

test("whole envelopes in one chunk are released at once, empty ones included", () => {
  const counter = new EnvelopeCounter();
  const chunk = Buffer.concat([envelope(3), envelope(0), envelope(10)]);
  assert.equal(counter.push(chunk), 8 + 5 + 15);
  assert.equal(counter.arriving, false);
});

test("an envelope split anywhere, its prefix too, is released when its last byte comes", () => {
  const whole = Buffer.concat([envelope(7), envelope(2)]);
  for (let cut = 1; cut < whole.length; cut++) {
    for (let second = cut + 1; second <= whole.length; second++) {
      const counter = new EnvelopeCounter();
      const released = [whole.subarray(0, cut), whole.subarray(cut, second), whole.subarray(second)].map((chunk) => counter.push(chunk));
      assert.equal(
        released.reduce((sum, bytes) => sum + bytes, 0),
        whole.length,
        `cut at ${cut} and ${second}`,
      );
      assert.equal(counter.arriving, false);
      // Nothing is released before the first envelope's last byte (12) has come.
      if (cut < 12) assert.equal(released[0], 0);
    }
  }
});

test("a message that has begun is arriving until its end", () => {
  const counter = new EnvelopeCounter();
  const big = envelope(100);
  assert.equal(counter.push(big.subarray(0, 3)), 0);
  assert.equal(counter.arriving, true);
  assert.equal(counter.push(big.subarray(3, 50)), 0);
  assert.equal(counter.push(big.subarray(50)), 105);
  assert.equal(counter.arriving, false);
});
