import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { RestClient, serverSentEvents } from "../support/rest.js";
import { startTestServer } from "../support/server.js";

// REST server streams in their three forms (a JSON array, NDJSON, Server-Sent
// Events), written as the messages come, ended by the client, and failing
// visibly after they began: WatchOrders is ended by MAX_WATCH_MS with
// UNAVAILABLE and a RetryInfo detail.

interface Status {
  readonly code: number;
  readonly message: string;
  readonly details?: ReadonlyArray<Record<string, unknown>>;
}

const maxWatchMs = 1_000;
const server = await startTestServer({ MAX_WATCH_MS: String(maxWatchMs) });
after(() => server.shutdown());

const watch = "/order.v1.OrderService/WatchOrders";

async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const version of ["1.1", "2"] as const) {
  describe(`REST server streams over HTTP/${version}`, () => {
    const client = new RestClient(server.port, version);
    after(() => client.close());
    const replies = "/v1/greeter:lotsOfReplies?name=Ada&delay_ms=100";

    test("the default is a JSON array, written element by element as the greetings come", async () => {
      const arrivals: number[] = [];
      const started = performance.now();
      const { answer } = client.stream(replies, {}, () => arrivals.push(performance.now() - started));
      const done = await answer;
      assert.equal(done.status, 200);
      assert.equal(done.headers["content-type"], "application/json");
      assert.equal(done.headers["cache-control"], "no-store");
      const greetings = done.json<Array<{ message: string; language: string }>>();
      assert.equal(greetings.length, 7);
      assert.deepEqual(greetings[0], { message: "Hello, Ada!", language: "en" });
      assert.ok(arrivals.length >= 4, `the array came in pieces (${arrivals.length})`);
      assert.ok((arrivals[0] ?? 0) < 300, `the first greeting came at once (${arrivals[0]} ms), not after all seven`);
    });

    test("Accept: application/x-ndjson gives one object per line", async () => {
      const done = await client.stream(replies, { accept: "application/x-ndjson" }, () => {}).answer;
      assert.equal(done.headers["content-type"], "application/x-ndjson");
      const lines = done.text.split("\n");
      assert.equal(lines.pop(), "", "every line ends with a newline");
      assert.deepEqual(
        lines.map((line) => (JSON.parse(line) as { language: string }).language),
        ["en", "fr", "es", "de", "ja", "ko", "ru"],
      );
    });

    test("Accept: text/event-stream gives a message event per greeting, then end", async () => {
      const done = await client.stream(replies, { accept: "text/event-stream" }, () => {}).answer;
      assert.equal(done.headers["content-type"], "text/event-stream");
      const events = serverSentEvents(done.text);
      assert.deepEqual(
        events.map((event) => event.event),
        [...Array(7).fill("message"), "end"],
      );
      assert.deepEqual(JSON.parse(events[1]?.data ?? ""), { message: "Bonjour, Ada !", language: "fr" });
    });

    test("a stream that fails before its first message gets an HTTP status and a Status body, in every format", async () => {
      for (const accept of ["application/json", "application/x-ndjson", "text/event-stream"]) {
        const done = await client.stream("/v1/greeter:lotsOfReplies?name=Bartholomew", { accept }, () => {}).answer;
        assert.equal(done.status, 400, accept);
        assert.equal(done.headers["content-type"], "application/json");
        assert.equal(done.json<Status>().code, 3);
      }
    });

    test("an EventSource-style watch: started, then each change; the client leaving ends the call", async () => {
      let text = "";
      const opened = server.callLogs(watch).length;
      const stream = client.stream("/v1/orders:watch", { accept: "text/event-stream" }, (chunk) => (text += chunk));
      await until(() => text.includes('"started":true'), "the watch to start");
      const created = await client.request("/v1/orders", { method: "POST", body: { name: `watched ${version}` } });
      assert.equal(created.status, 200);
      const { id } = created.json<{ id: string }>();
      await until(() => text.includes(id), "the change to arrive");
      const events = serverSentEvents(text);
      assert.deepEqual(JSON.parse(events[0]?.data ?? ""), { started: true });
      const change = JSON.parse(events[1]?.data ?? "") as { type: string; order: { id: string } };
      assert.equal(change.type, "ORDER_CHANGE_TYPE_CREATED");
      assert.equal(change.order.id, id);

      stream.abort();
      const line = await server.waitForCallLog(watch, opened + 1);
      assert.equal(line.protocol, "rest");
      assert.equal(line.code, "canceled", "the call ended when the client left");
      await until(() => server.openStreams() === 0, "the stream's slot to be given back");
    });

    for (const [accept, lastOf] of [
      ["application/json", (text: string) => (JSON.parse(text) as unknown[]).at(-1)],
      ["application/x-ndjson", (text: string) => JSON.parse(text.trimEnd().split("\n").at(-1) ?? "")],
      [
        "text/event-stream",
        (text: string) => {
          const last = serverSentEvents(text).at(-1);
          assert.equal(last?.event, "error");
          return { error: JSON.parse(last?.data ?? "") };
        },
      ],
    ] as const) {
      test(`a stream that fails after it began says so at its end (${accept})`, async () => {
        const done = await client.stream("/v1/orders:watch", { accept }, () => {}).answer;
        assert.equal(done.status, 200);
        const last = lastOf(done.text) as { error: Status };
        assert.equal(last.error.code, 14, "UNAVAILABLE: MAX_WATCH_MS passed");
        assert.match(last.error.message, /MAX_WATCH_MS/);
        assert.equal(last.error.details?.[0]?.["@type"], "type.googleapis.com/google.rpc.RetryInfo");
      });
    }
  });
}
