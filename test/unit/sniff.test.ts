import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sniffProtocol, type WireProtocol } from "../../server/transport/sniff.js";

// sniffProtocol on real sockets: what it decides, and what it leaves for the
// server that takes the connection over.

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

interface Sniffed {
  protocol: WireProtocol | undefined;
  /** Whether the socket was left paused (never flowing) for the next owner. */
  paused: boolean;
  /** What the next owner reads: everything the client sent so far. */
  readable: Buffer;
  destroyed: boolean;
}

const sniffed: Array<(result: Sniffed) => void> = [];
const server = net.createServer(async (socket) => {
  const protocol = await sniffProtocol(socket, 300);
  const paused = socket.readableFlowing !== true;
  await sleep(20);
  const readable = (socket.read() as Buffer | null) ?? Buffer.alloc(0);
  sniffed.shift()?.({ protocol, paused, readable, destroyed: socket.destroyed });
  socket.destroy();
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
after(() => server.close());

/** Connects, sends each piece with a pause between, and reports what the server side saw. */
async function sniff(pieces: Buffer[], endAfter = false): Promise<Sniffed> {
  const result = new Promise<Sniffed>((resolve) => sniffed.push(resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  socket.on("error", () => {});
  await once(socket, "connect");
  for (const piece of pieces) {
    socket.write(piece);
    await sleep(30);
  }
  if (endAfter) socket.end();
  const outcome = await result;
  socket.destroy();
  return outcome;
}

test("the HTTP/2 preface, even split in pieces, is h2; every byte is left to read and the socket stays paused", async () => {
  const frame = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  const result = await sniff([preface.subarray(0, 3), preface.subarray(3, 20), Buffer.concat([preface.subarray(20), frame])]);
  assert.equal(result.protocol, "h2");
  assert.equal(result.paused, true);
  assert.deepEqual(result.readable, Buffer.concat([preface, frame]));
});

test("anything else is HTTP/1.1, decided at the first byte that differs", async () => {
  const request = Buffer.from("POST / HTTP/1.1\r\n");
  const result = await sniff([request]);
  assert.equal(result.protocol, "http/1.1");
  assert.deepEqual(result.readable, request);
  assert.equal((await sniff([Buffer.from("PRX")])).protocol, "http/1.1");
});

test("silence past the timeout, or a close mid-preface, gives up and destroys the socket", async () => {
  const silent = await sniff([]);
  assert.deepEqual([silent.protocol, silent.destroyed], [undefined, true]);
  const partial = await sniff([preface.subarray(0, 10)], true);
  assert.deepEqual([partial.protocol, partial.destroyed], [undefined, true]);
});
