import { procedures } from "../../lib/catalog.js";
import type { Case } from "../case.js";
import { mutateBytes } from "../mutate.js";
import type { Rng } from "../rng.js";
import { plainPath } from "./http.js";
import { badAuthority, contentType } from "./values.js";

interface Message {
  requestLine: string;
  headers: string[];
  body: Buffer;
  /** How the header block ends and lines are separated. */
  eol: string;
}

/** Bytes on a fresh cleartext connection: HTTP/1.1 as no client library would write it. */
export function rawH1Case(rng: Rng, id: string, authority = false): Case {
  const mutations: string[] = [];
  const message = baseMessage(rng);
  let endAfterWrite = false;
  let head = message.requestLine.startsWith("HEAD ");
  if (authority) {
    mutations.push(hostTrick(rng, message));
    return {
      id,
      family: "authority",
      wire: "raw-h1",
      deadlineSent: false,
      mutations,
      request: { kind: "raw", http: "1.1", chunks: [serialize(message)], endAfterWrite, streamIds: [], head },
    };
  }
  const count = rng.weighted([
    [1, 6],
    [2, 3],
    [3, 1],
  ] as const);
  let tail: Buffer | undefined;
  for (let i = 0; i < count; i++) {
    const trick = rng.weighted<() => string>([
      [() => requestLineTrick(rng, message), 5],
      [() => headerTrick(rng, message), 6],
      [
        () => {
          const [what, truncated] = framingTrick(rng, message);
          endAfterWrite ||= truncated;
          return what;
        },
        6,
      ],
      [
        () => {
          const second = baseMessage(rng);
          tail = serialize(second);
          return "a second request pipelined";
        },
        2,
      ],
      [
        () => {
          message.eol = rng.pick(["\n", "\r", "\r\r\n", "\n\r"]);
          return `line endings ${JSON.stringify(message.eol)}`;
        },
        2,
      ],
    ])();
    mutations.push(trick);
  }
  let bytes = serialize(message);
  if (tail !== undefined) bytes = Buffer.concat([bytes, tail]);
  // Whole-connection tricks replace the request outright.
  if (rng.chance(0.12)) {
    const [replacement, what, end] = garbage(rng);
    bytes = replacement;
    mutations.length = 0;
    mutations.push(what);
    endAfterWrite = end;
    head = false;
  } else if (rng.chance(0.08)) {
    const mutated = mutateBytes(rng, bytes);
    bytes = mutated.data;
    mutations.push(`bytes: ${mutated.what}`);
    endAfterWrite = true;
  }
  // Sometimes dribbled: small writes, each its own TCP segment or not.
  const chunks = rng.chance(0.15) ? split(rng, bytes) : [bytes];
  if (chunks.length > 1) mutations.push(`written in ${chunks.length} pieces`);
  return {
    id,
    family: "raw-h1",
    wire: "raw-h1",
    deadlineSent: false,
    mutations,
    request: { kind: "raw", http: "1.1", chunks, endAfterWrite, streamIds: [], head },
  };
}

function baseMessage(rng: Rng): Message {
  const eol = "\r\n";
  if (rng.chance(0.35)) {
    const method = rng.pick(["GET", "GET", "HEAD", "OPTIONS"]);
    return {
      requestLine: `${method} ${plainPath(rng)} HTTP/1.1`,
      headers: ["Host: 127.0.0.1", "Connection: close"],
      body: Buffer.alloc(0),
      eol,
    };
  }
  const procedure = rng.pick(procedures.filter((p) => p.method.methodKind === "unary"));
  const grpcWeb = rng.chance(0.3);
  const body = grpcWeb ? Buffer.from([0, 0, 0, 0, 0]) : Buffer.from("{}");
  return {
    requestLine: `POST ${procedure.path} HTTP/1.1`,
    headers: [
      "Host: 127.0.0.1",
      `Content-Type: ${grpcWeb ? "application/grpc-web+proto" : "application/json"}`,
      `Content-Length: ${body.length}`,
      "Connection: close",
    ],
    body,
    eol,
  };
}

function serialize({ requestLine, headers, body, eol }: Message): Buffer {
  return Buffer.concat([Buffer.from([requestLine, ...headers].join(eol) + eol + eol, "latin1"), body]);
}

function hostTrick(rng: Rng, message: Message): string {
  const headers = message.headers.filter((line) => !/^host:/i.test(line));
  const trick = rng.int(0, 4);
  if (trick === 0) {
    message.headers = headers;
    return "no Host header";
  }
  if (trick === 1) {
    message.headers = [...headers, "Host: 127.0.0.1", `Host: ${badAuthority(rng)}`];
    return "two Host headers";
  }
  if (trick === 2) {
    message.headers = [...headers, `Host:${rng.pick(["", " ", "\t"])}`];
    return "empty Host header";
  }
  const value = badAuthority(rng);
  message.headers = [...headers, `${rng.pick(["Host", "host", "HOST"])}: ${value}`];
  return `Host ${JSON.stringify(value.slice(0, 40))}`;
}

function requestLineTrick(rng: Rng, message: Message): string {
  const [method = "GET", target = "/", version = "HTTP/1.1"] = message.requestLine.split(" ");
  const choice = rng.weighted<() => [string, string]>([
    [() => [`${method.toLowerCase()} ${target} ${version}`, "lowercase method"], 1],
    [() => [`${rng.pick(["BREW", "PRI", "CONNECT", "M-SEARCH", "G\u00c9T", "GET\u0000"])} ${target} ${version}`, "unusual method"], 2],
    [() => [`${method} http://127.0.0.1${target} ${version}`, "absolute-form target"], 1],
    [() => [`${method} * ${version}`, "asterisk target"], 1],
    [() => [`${method} ${target}`, "no HTTP version"], 1],
    [
      () => [
        `${method} ${target} ${rng.pick(["HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/1.0", "HTTP/9.9", "HTTP/1", "http/1.1", "HTTP/1.1 extra"])}`,
        "odd HTTP version",
      ],
      3,
    ],
    [() => [`${method}  ${target}\t${version}`, "odd spacing"], 1],
    [() => [`${method} ${target}${"a".repeat(rng.logInt(1_000, 100_000))} ${version}`, "very long target"], 2],
    [() => [`${method} /\u00e9\u0000\u00ff ${version}`, "non-ASCII bytes in the target"], 1],
    [() => [`${method} ${target.replace("/", "")} ${version}`, "target without a leading slash"], 1],
  ])();
  message.requestLine = choice[0];
  return choice[1];
}

function headerTrick(rng: Rng, message: Message): string {
  return rng.weighted<() => string>([
    [
      () => {
        message.headers.push("X-Folded: first", " continued on the next line");
        return "obsolete line folding";
      },
      1,
    ],
    [
      () => {
        message.headers.push(
          rng.pick([
            "NoColonHere",
            ": empty name",
            "Bad Name: x",
            "X-Space : x",
            "X-Nul: a\u0000b",
            "X-Ctl: a\u0001b",
            "X-Del: a\u007fb",
            "X-High: \u00ff",
          ]),
        );
        return "a malformed header line";
      },
      3,
    ],
    [
      () => {
        const size = rng.logInt(1_000, 200_000);
        message.headers.push(`X-Big: ${"a".repeat(size)}`);
        return `a ${size}-byte header`;
      },
      2,
    ],
    [
      () => {
        const count = rng.logInt(100, 5_000);
        for (let i = 0; i < count; i++) message.headers.push(`X-H${i}: v`);
        return `${count} headers`;
      },
      2,
    ],
    [
      () => {
        message.headers = message.headers.filter((line) => !/^content-type:/i.test(line));
        if (rng.chance(0.7)) message.headers.push(`Content-Type: ${contentType(rng)}`);
        return "content-type changed";
      },
      2,
    ],
    [
      () => {
        message.headers.push(
          rng.pick([
            "Expect: 100-continue",
            "Expect: something-else",
            "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings",
            "Upgrade: websocket\r\nConnection: Upgrade",
            "Connection: keep-alive, Upgrade",
          ]),
        );
        return "expect or upgrade";
      },
      2,
    ],
    [
      () => {
        message.headers.push(
          `${rng.pick(["Grpc-Timeout", "Connect-Timeout-Ms", "Content-Encoding", "Grpc-Encoding", "Connect-Protocol-Version"])}: ${rng.pick(["1S", "-5", "garbage", "gzip", "999999999999", "2"])}`,
        );
        return "a protocol header with an odd value";
      },
      2,
    ],
  ])();
}

/** Returns what was done and whether the body was cut short (the client must then close its side). */
function framingTrick(rng: Rng, message: Message): [string, boolean] {
  const withoutLength = message.headers.filter((line) => !/^(content-length|transfer-encoding):/i.test(line));
  const body = message.body.length > 0 ? message.body : Buffer.from("{}");
  const chunked = Buffer.from(`${body.length.toString(16)}\r\n${body.toString("latin1")}\r\n0\r\n\r\n`, "latin1");
  const options: Array<readonly [() => [string, boolean], number]> = [
    [
      () => {
        message.headers = [...withoutLength, `Content-Length: ${body.length + rng.int(1, 1000)}`];
        message.body = body;
        return ["content-length larger than the body, then the client stops", true];
      },
      3,
    ],
    [
      () => {
        message.headers = [
          ...withoutLength,
          `Content-Length: ${rng.pick(["-1", "abc", "1e3", "0x10", " 2", "99999999999999999999", "+2", "2, 2", ""])}`,
        ];
        message.body = body;
        return ["an invalid content-length", true];
      },
      3,
    ],
    [
      () => {
        message.headers = [...withoutLength, `Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`];
        message.body = body;
        return ["two different content-lengths", true];
      },
      2,
    ],
    [
      () => {
        message.headers = [...withoutLength, `Content-Length: ${body.length}`, "Transfer-Encoding: chunked"];
        message.body = chunked;
        return ["both content-length and chunked", true];
      },
      2,
    ],
    [
      () => {
        message.headers = [...withoutLength, "Transfer-Encoding: chunked"];
        message.body = Buffer.from(
          rng.pick([
            "zz\r\n{}\r\n0\r\n\r\n",
            "2;ext=1\r\n{}\r\n0\r\n\r\n",
            "2\r\n{}\r\n",
            "ffffffffffffffff\r\n{}",
            "2\r\n{}0\r\n\r\n",
            "2\n{}\n0\n\n",
            "-2\r\n{}\r\n0\r\n\r\n",
          ]),
          "latin1",
        );
        return ["a broken chunked body", true];
      },
      3,
    ],
    [
      () => {
        message.headers = [
          ...withoutLength,
          `Transfer-Encoding: ${rng.pick(["gzip, chunked", "chunked, gzip", "xchunked", "chunked\u0000", "identity", "Chunked"])}`,
        ];
        message.body = chunked;
        return ["an unusual transfer-encoding", true];
      },
      2,
    ],
    [
      () => {
        message.headers = [...withoutLength, "Transfer-Encoding: chunked"];
        message.body = chunked;
        return ["a chunked body", false];
      },
      2,
    ],
    [
      () => {
        const extra = rng.bytes(rng.int(1, 200));
        message.headers = [...withoutLength, `Content-Length: ${body.length}`];
        message.body = Buffer.concat([body, extra]);
        return ["bytes after the body", true];
      },
      2,
    ],
  ];
  return rng.weighted(options)();
}

/** Not HTTP/1.1 at all. Returns the bytes, what they are, and whether the client closes its side afterwards. */
function garbage(rng: Rng): [Buffer, string, boolean] {
  return rng.weighted<() => [Buffer, string, boolean]>([
    [() => [rng.bytes(rng.logInt(1, 8_192)), "random bytes", true], 3],
    [() => [Buffer.alloc(0), "a connection that sends nothing and closes", true], 1],
    [() => [Buffer.from("\r\n\r\n\r\n"), "blank lines only", true], 1],
    [
      () => [
        Buffer.from(`16030100a5010000a10303${"00".repeat(32)}000020c02bc02fc02cc030cca9cca8c013c014009c009d002f0035000a0100`, "hex"),
        "a TLS ClientHello on the cleartext port",
        true,
      ],
      2,
    ],
    [() => [Buffer.from("PRI * HTTP/2.0\r\n\r\n"), "the first part of the HTTP/2 preface", true], 1],
    [() => [Buffer.from("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"), "an HTTP/2 preface with a wrong ending", true], 1],
    [() => [Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"), "headers never finished", true], 2],
    [() => [Buffer.from("GET /\r\n"), "an HTTP/0.9 request", true], 1],
    [() => [Buffer.from("SSH-2.0-OpenSSH_9.6\r\n"), "an SSH banner", true], 1],
  ])();
}

function split(rng: Rng, bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length && pieces.length < 64) {
    const size = rng.logInt(1, Math.max(1, Math.ceil(bytes.length / 4)));
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (offset < bytes.length) pieces.push(bytes.subarray(offset));
  return pieces;
}
