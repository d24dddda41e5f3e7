import { procedures } from "../../lib/catalog.js";
import type { Case } from "../case.js";
import { Flag, FrameType, frame, headerBlock, hpackInt, preface, settings, u32 } from "../h2-frames.js";
import type { Rng } from "../rng.js";
import { envelope } from "../wire.js";
import { plainPath } from "./http.js";
import { badAuthority, contentType } from "./values.js";

/** The case's own request stream: above every id the frame tricks use, so tricks sent before it leave it valid. */
const requestStream = 201;
/** Floods open streams from here on, after the request stream. */
const floodStream = 301;

/** One request stream, before it is turned into frames. */
interface Stream {
  id: number;
  headers: Array<[string, string]>;
  body: Buffer | undefined;
}

/** HTTP/2 written frame by frame on a fresh connection: bad frames, bad HPACK, bad headers, floods kept small. */
export function rawH2Case(rng: Rng, id: string, authority = false): Case {
  const mutations: string[] = [];
  const stream = baseStream(rng, requestStream);
  if (authority) {
    mutations.push(authorityTrick(rng, stream));
    const chunks = [Buffer.concat([preface, settings(), ...streamToFrames(rng, stream, mutations)])];
    return {
      id,
      family: "authority",
      wire: "raw-h2",
      deadlineSent: false,
      mutations,
      request: { kind: "raw", http: "2", chunks, endAfterWrite: false, streamIds: [requestStream] },
    };
  }
  let connectionSettings = settings();
  const before: Buffer[] = [];
  const after: Buffer[] = [];
  let endAfterWrite = false;
  // The streams that must get an answer (response headers or RST_STREAM) unless the connection ends.
  let baseAnswered = true;
  const extraAnswered: number[] = [];
  let replaceStream: Buffer[] | undefined;

  const count = rng.weighted([
    [1, 7],
    [2, 3],
  ] as const);
  for (let i = 0; i < count; i++) {
    const trick = rng.weighted<() => string>([
      [() => headerTrick(rng, stream), 10],
      [
        () => {
          const [frames, what] = hpackTrick(rng);
          replaceStream = frames;
          baseAnswered = false;
          return what;
        },
        4,
      ],
      [
        () => {
          const [frames, what] = frameTrick(rng);
          (rng.chance(0.5) ? before : after).push(...frames);
          return what;
        },
        10,
      ],
      [
        () => {
          const [value, what] = settingsTrick(rng);
          connectionSettings = value;
          return what;
        },
        4,
      ],
      [
        () => {
          const [frames, what, streams] = floodTrick(rng);
          after.push(...frames);
          extraAnswered.push(...streams);
          return what;
        },
        3,
      ],
      [
        () => {
          stream.body = stream.body?.subarray(0, Math.floor(stream.body.length / 2)) ?? Buffer.alloc(0);
          endAfterWrite = true;
          baseAnswered = false;
          return "the request stream never ends";
        },
        2,
      ],
    ])();
    mutations.push(trick);
  }

  const streamFrames = replaceStream ?? streamToFrames(rng, stream, mutations);
  const chunks = [Buffer.concat([preface, connectionSettings, ...before, ...streamFrames, ...after])];
  // A short prefix of the preface, or a preface with no SETTINGS after it: the connection must still end.
  if (rng.chance(0.04)) {
    mutations.push("the connection preface and nothing else");
    return finish(id, mutations, [preface], true, []);
  }
  return finish(id, mutations, chunks, endAfterWrite, [...(baseAnswered ? [requestStream] : []), ...extraAnswered]);
}

function finish(id: string, mutations: string[], chunks: Buffer[], endAfterWrite: boolean, streamIds: number[]): Case {
  return {
    id,
    family: "raw-h2",
    wire: "raw-h2",
    deadlineSent: false,
    mutations,
    request: { kind: "raw", http: "2", chunks, endAfterWrite, streamIds },
  };
}

function baseStream(rng: Rng, id: number): Stream {
  if (rng.chance(0.3)) {
    return {
      id,
      headers: [
        [":method", rng.pick(["GET", "HEAD"])],
        [":scheme", "http"],
        [":path", plainPath(rng)],
        [":authority", "127.0.0.1"],
      ],
      body: undefined,
    };
  }
  const procedure = rng.pick(procedures.filter((p) => !p.openEnded));
  const grpc = rng.chance(0.6);
  return {
    id,
    headers: [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", procedure.path],
      [":authority", "127.0.0.1"],
      ["content-type", grpc ? "application/grpc" : "application/connect+proto"],
      ...(grpc ? ([["te", "trailers"]] as Array<[string, string]>) : []),
    ],
    body: procedure.method.methodKind === "unary" && !grpc ? Buffer.alloc(0) : envelope(Buffer.alloc(0)),
  };
}

function streamToFrames(rng: Rng, stream: Stream, mutations: string[]): Buffer[] {
  const block = headerBlock(stream.headers);
  const endStream = stream.body === undefined ? Flag.END_STREAM : 0;
  const frames: Buffer[] = [];
  // Large header blocks go out in CONTINUATION frames, as they must past 16 KiB.
  if (block.length > 16_384 || rng.chance(0.05)) {
    const size = block.length > 16_384 ? 16_384 : rng.int(1, Math.max(1, block.length));
    frames.push(frame(FrameType.HEADERS, endStream, stream.id, block.subarray(0, size)));
    for (let offset = size; offset < block.length; offset += 16_384) {
      const end = offset + 16_384 >= block.length ? Flag.END_HEADERS : 0;
      frames.push(frame(FrameType.CONTINUATION, end, stream.id, block.subarray(offset, offset + 16_384)));
    }
    if (block.length <= size) frames.push(frame(FrameType.CONTINUATION, Flag.END_HEADERS, stream.id));
    if (block.length <= 16_384) mutations.push("header block split into CONTINUATION");
  } else {
    frames.push(frame(FrameType.HEADERS, Flag.END_HEADERS | endStream, stream.id, block));
  }
  if (stream.body !== undefined) frames.push(frame(FrameType.DATA, Flag.END_STREAM, stream.id, stream.body));
  return frames;
}

function headerTrick(rng: Rng, stream: Stream): string {
  const set = (name: string, value: string) => {
    const existing = stream.headers.findIndex(([n]) => n === name);
    if (existing >= 0) stream.headers[existing] = [name, value];
    else stream.headers.push([name, value]);
  };
  const drop = (name: string) => {
    stream.headers = stream.headers.filter(([n]) => n !== name);
  };
  return rng.weighted<() => string>([
    [
      () => {
        const name = rng.pick([":path", ":method", ":scheme"]);
        drop(name);
        return `no ${name}`;
      },
      3,
    ],
    [
      () => {
        const name = rng.pick([":path", ":method", ":scheme"]);
        stream.headers.push([name, "/dup"]);
        return `${name} twice`;
      },
      2,
    ],
    [
      () => {
        stream.headers.unshift(["x-first", "1"]);
        stream.headers.push([":late", "x"]);
        return "an unknown pseudo-header after a regular one";
      },
      1,
    ],
    [
      () => {
        const value = rng.pick([
          "",
          "*",
          "noslash",
          "//",
          "/%",
          "/\u00ff",
          `/${"a".repeat(rng.logInt(100, 60_000))}`,
          "http://127.0.0.1/healthz",
        ]);
        set(":path", value);
        return `:path ${JSON.stringify(value.slice(0, 40))}`;
      },
      3,
    ],
    [
      () => {
        const value = rng.pick(["", "get", "CONNECT", "BREW", "G ET", "OPTIONS"]);
        set(":method", value);
        return `:method ${JSON.stringify(value)}`;
      },
      2,
    ],
    [
      () => {
        const value = rng.pick(["https", "", "ftp", "HTTP"]);
        set(":scheme", value);
        return `:scheme ${JSON.stringify(value)}`;
      },
      1,
    ],
    [
      () => {
        const line = rng.pick<[string, string]>([
          ["connection", "keep-alive"],
          ["transfer-encoding", "chunked"],
          ["keep-alive", "timeout=5"],
          ["proxy-connection", "x"],
          ["upgrade", "h2c"],
          ["te", "gzip"],
          ["Content-Type", "application/grpc"],
          ["x bad", "1"],
          ["x-crlf", "a\r\nb: c"],
          ["x-nul", "a\u0000b"],
          ["", "empty name"],
          ["content-length", rng.pick(["-1", "abc", "99999999", "0"])],
        ]);
        stream.headers.push(line);
        return `header ${JSON.stringify(line[0])}: ${JSON.stringify(line[1].slice(0, 20))}`;
      },
      4,
    ],
    [
      () => {
        const value = contentType(rng);
        set("content-type", value);
        stream.headers.push(["content-type", "application/json"]);
        return "content-type twice";
      },
      1,
    ],
    [
      () => {
        const size = rng.logInt(10_000, 300_000);
        stream.headers.push(["x-big", "a".repeat(size)]);
        return `a ${size}-byte header value`;
      },
      2,
    ],
    [
      () => {
        const count = rng.logInt(100, 10_000);
        for (let i = 0; i < count; i++) stream.headers.push([`x-h${i}`, "v"]);
        return `${count} headers`;
      },
      2,
    ],
  ])();
}

/** A bad :authority, none, or one that disagrees with a host header. */
function authorityTrick(rng: Rng, stream: Stream): string {
  const without = stream.headers.filter(([name]) => name !== ":authority");
  const value = badAuthority(rng);
  const trick = rng.int(0, 3);
  if (trick === 0) {
    stream.headers = [...without.slice(0, 3), [":authority", value], ...without.slice(3)];
    return `:authority ${JSON.stringify(value.slice(0, 60))}`;
  }
  if (trick === 1) {
    stream.headers = without;
    return "no :authority and no host";
  }
  if (trick === 2) {
    stream.headers = [...without, ["host", value]];
    return `no :authority, host ${JSON.stringify(value.slice(0, 60))}`;
  }
  stream.headers.push(["host", value]);
  return `:authority and a different host ${JSON.stringify(value.slice(0, 60))}`;
}

/** Header blocks that are not valid HPACK. Returns the frames of the whole stream. */
function hpackTrick(rng: Rng): [Buffer[], string] {
  const block = rng.weighted<() => [Buffer, string]>([
    [() => [Buffer.from([0x80]), "HPACK index 0"], 1],
    [() => [hpackInt(rng.int(62, 100_000), 7, 0x80), "HPACK index beyond the tables"], 2],
    [() => [hpackInt(rng.int(4_097, 1_000_000), 5, 0x20), "HPACK table size update above the limit"], 1],
    [() => [Buffer.from([0x00, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x61]), "HPACK Huffman string of garbage"], 2],
    [() => [Buffer.from([0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f]), "HPACK string longer than the block"], 2],
    [() => [Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), "HPACK integer overflow"], 1],
    [() => [rng.bytes(rng.logInt(1, 2_000)), "a header block of random bytes"], 3],
    [
      () => {
        // Many entries into the dynamic table, evicting each other.
        const entries = rng.logInt(10, 5_000);
        const fields = Array.from({ length: entries }, (_, i) =>
          Buffer.concat([
            Buffer.from([0x40]),
            hpackInt(5, 7),
            Buffer.from(`x-${String(i % 100).padStart(3, "0")}`),
            hpackInt(100, 7),
            Buffer.alloc(100, 0x61),
          ]),
        );
        return [
          Buffer.concat([
            headerBlock([
              [":method", "GET"],
              [":scheme", "http"],
              [":path", "/healthz"],
              [":authority", "127.0.0.1"],
            ]),
            ...fields,
          ]),
          `${entries} dynamic table insertions`,
        ];
      },
      1,
    ],
  ])();
  return [[frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, requestStream, block[0])], block[1]];
}

/** Frames the server must refuse or ignore. */
function frameTrick(rng: Rng): [Buffer[], string] {
  const small = headerBlock([
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/healthz"],
    [":authority", "127.0.0.1"],
  ]);
  return rng.weighted<() => [Buffer[], string]>([
    [() => [[frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 0, small)], "HEADERS on stream 0"], 2],
    [() => [[frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 2, small)], "HEADERS on an even stream id"], 2],
    [
      () => [
        [frame(FrameType.HEADERS, Flag.END_HEADERS, 5, small), frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, small)],
        "stream ids going down",
      ],
      2,
    ],
    [() => [[frame(FrameType.DATA, 0, 7, Buffer.from("data"))], "DATA on an idle stream"], 2],
    [() => [[frame(FrameType.DATA, 0, 0, Buffer.from("data"))], "DATA on stream 0"], 1],
    [() => [[frame(FrameType.DATA, Flag.PADDED, requestStream, Buffer.from([200, 1, 2]))], "padding longer than the frame"], 1],
    [() => [[frame(0xfa, 0xff, requestStream, rng.bytes(rng.int(0, 100)))], "a frame of an unknown type"], 2],
    [() => [[frame(FrameType.DATA, 0, requestStream, rng.bytes(rng.int(16_385, 70_000)))], "a frame over the maximum frame size"], 1],
    [() => [[frame(FrameType.PING, 0, 0, Buffer.alloc(rng.pick([0, 7, 9])))], "PING of the wrong length"], 1],
    [() => [[frame(FrameType.PING, 0, requestStream, Buffer.alloc(8))], "PING on a stream"], 1],
    [() => [[frame(FrameType.WINDOW_UPDATE, 0, rng.pick([0, 1]), u32(0))], "WINDOW_UPDATE of 0"], 2],
    [
      () => [
        [frame(FrameType.WINDOW_UPDATE, 0, 0, u32(0x7fffffff)), frame(FrameType.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))],
        "connection window overflow",
      ],
      1,
    ],
    [() => [[frame(FrameType.WINDOW_UPDATE, 0, 0, u32(1), 3)], "WINDOW_UPDATE of the wrong length"], 1],
    [
      () => [
        [frame(FrameType.RST_STREAM, 0, rng.pick([0, 9, requestStream]), u32(rng.int(0, 20)))],
        "RST_STREAM on stream 0, an idle stream or the request",
      ],
      2,
    ],
    [
      () => [
        [frame(FrameType.PRIORITY, 0, requestStream, Buffer.concat([u32(requestStream), Buffer.from([16])]))],
        "a stream depending on itself",
      ],
      1,
    ],
    [() => [[frame(FrameType.PRIORITY, 0, requestStream, Buffer.alloc(3))], "PRIORITY of the wrong length"], 1],
    [
      () => [
        [frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, requestStream, Buffer.concat([u32(2), small]))],
        "PUSH_PROMISE from the client",
      ],
      1,
    ],
    [() => [[frame(FrameType.CONTINUATION, Flag.END_HEADERS, requestStream, small)], "CONTINUATION without HEADERS"], 2],
    [
      () => [
        [frame(FrameType.HEADERS, 0, 11, small), frame(FrameType.DATA, 0, 11, Buffer.from("x"))],
        "HEADERS without END_HEADERS, then DATA",
      ],
      2,
    ],
    [
      () => [
        [
          frame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(rng.int(0, 13))])),
          frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 13, small),
        ],
        "GOAWAY from the client, then a new stream",
      ],
      1,
    ],
    [() => [[frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(6))], "SETTINGS ACK with a payload"], 1],
    [() => [[frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(rng.pick([1, 5, 7])))], "SETTINGS of a length not a multiple of 6"], 1],
    [() => [[frame(FrameType.SETTINGS, 0, 3)], "SETTINGS on a stream"], 1],
    [() => [[frame(FrameType.DATA, 0, requestStream, Buffer.alloc(10), 1_000)], "a frame whose length runs past the end"], 2],
    [() => [[rng.bytes(rng.logInt(1, 2_000))], "random bytes as frames"], 3],
  ])();
}

function settingsTrick(rng: Rng): [Buffer, string] {
  const [id, value, what] = rng.pick<[number, number, string]>([
    [2, 2, "ENABLE_PUSH=2"],
    [4, 0x80000000, "INITIAL_WINDOW_SIZE above 2^31-1"],
    [4, 0, "INITIAL_WINDOW_SIZE=0"],
    [5, 100, "MAX_FRAME_SIZE below 16384"],
    [5, 0x1000000, "MAX_FRAME_SIZE above 2^24-1"],
    [3, 0, "MAX_CONCURRENT_STREAMS=0"],
    [1, 0, "HEADER_TABLE_SIZE=0"],
    [1, 0xffffffff, "HEADER_TABLE_SIZE=2^32-1"],
    [6, 1, "MAX_HEADER_LIST_SIZE=1"],
    [8, 1, "ENABLE_CONNECT_PROTOCOL=1"],
    [0xff, 7, "an unknown setting"],
  ]);
  return [settings([[id, value]]), `SETTINGS ${what}`];
}

/** Small floods: enough to see the server's limits work, bounded so a run stays short. Returns the streams that must be answered. */
function floodTrick(rng: Rng): [Buffer[], string, number[]] {
  const small = headerBlock([
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/healthz"],
    [":authority", "127.0.0.1"],
  ]);
  return rng.weighted<() => [Buffer[], string, number[]]>([
    [
      () => {
        const count = rng.logInt(10, 2_000);
        return [
          Array.from({ length: count }, (_, i) => frame(FrameType.PING, 0, 0, Buffer.concat([u32(i), u32(0)]))),
          `${count} PINGs`,
          [],
        ];
      },
      2,
    ],
    [
      () => {
        const count = rng.logInt(10, 1_000);
        const frames = Array.from({ length: count }, (_, i) => [
          frame(FrameType.HEADERS, Flag.END_HEADERS, floodStream + 2 * i, small),
          frame(FrameType.RST_STREAM, 0, floodStream + 2 * i, u32(8)),
        ]).flat();
        return [frames, `${count} streams opened and reset at once (rapid reset)`, []];
      },
      2,
    ],
    [
      () => {
        const count = rng.int(251, 400);
        const frames = Array.from({ length: count }, (_, i) =>
          frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, floodStream + 2 * i, small),
        );
        return [frames, `${count} streams at once, over the concurrency limit`, []];
      },
      1,
    ],
    [
      () => {
        const count = rng.logInt(10, 10_000);
        return [
          [
            frame(
              FrameType.HEADERS,
              Flag.END_HEADERS,
              floodStream,
              headerBlock([
                [":method", "POST"],
                [":scheme", "http"],
                [":path", "/greeter.v1.GreeterService/SayHello"],
                [":authority", "127.0.0.1"],
                ["content-type", "application/json"],
              ]),
            ),
            ...Array.from({ length: count }, () => frame(FrameType.DATA, 0, floodStream)),
            frame(FrameType.DATA, Flag.END_STREAM, floodStream, Buffer.from('{"name":"Ada"}')),
          ],
          `${count} empty DATA frames`,
          [floodStream],
        ];
      },
      2,
    ],
    [
      () => {
        const count = rng.logInt(10, 5_000);
        return [
          [
            frame(FrameType.HEADERS, 0, floodStream, small),
            ...Array.from({ length: count }, () =>
              frame(FrameType.CONTINUATION, 0, floodStream, Buffer.from([0x00, 0x01, 0x78, 0x01, 0x79])),
            ),
            frame(FrameType.CONTINUATION, Flag.END_HEADERS, floodStream),
          ],
          `${count} CONTINUATION frames`,
          [],
        ];
      },
      2,
    ],
    [
      () => {
        const count = rng.logInt(10, 2_000);
        return [Array.from({ length: count }, () => settings([[4, 65_535]])), `${count} SETTINGS frames`, []];
      },
      1,
    ],
    [
      () => {
        const count = rng.logInt(10, 2_000);
        return [
          Array.from({ length: count }, () => frame(FrameType.WINDOW_UPDATE, 0, requestStream, u32(1))),
          `${count} WINDOW_UPDATEs`,
          [],
        ];
      },
      1,
    ],
    [
      () => {
        // More data than the server's initial window allows (65,535 bytes).
        const headers = headerBlock([
          [":method", "POST"],
          [":scheme", "http"],
          [":path", "/greeter.v1.GreeterService/SayHello"],
          [":authority", "127.0.0.1"],
          ["content-type", "application/json"],
        ]);
        const frames = [frame(FrameType.HEADERS, Flag.END_HEADERS, floodStream, headers)];
        for (let i = 0; i < 6; i++) frames.push(frame(FrameType.DATA, 0, floodStream, Buffer.alloc(16_384, 0x20)));
        return [frames, "more DATA than the flow-control window", []];
      },
      1,
    ],
  ])();
}
