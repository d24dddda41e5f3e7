import type { JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";

/** No request message of this API nests deeper than 2 levels in JSON. */
export const maxJsonDepth = 32;
/** Nor has more than a dozen fields: this many strings and punctuation marks leave room for any future one. */
export const maxJsonTokens = 10_000;

/**
 * Parsing JSON costs time that grows with the input, and far more with some
 * shapes: 4 MiB of nested arrays keep JSON.parse busy over a second, 4 MiB of
 * distinct keys most of one, and the event loop with it, while no request
 * message here needs more than a few fields. This reads the text once (tens
 * of milliseconds at most for 4 MiB) and refuses a shape no request message
 * can have before JSON.parse sees it. It also refuses bytes that are not
 * UTF-8, as protobuf does for binary strings, instead of decoding them to
 * U+FFFD.
 *
 * connect-es decodes every JSON request message, in every protocol and in
 * Connect GET, with `jsonOptions.textDecoder` (createJsonSerialization in
 * @connectrpc/connect/protocol), and answers what it throws with
 * INVALID_ARGUMENT and its message. The option is not in the handler
 * options' type, so test/e2e/huge-input.test.ts checks that it still works.
 */
export const guardedJsonOptions: Partial<JsonReadOptions & JsonWriteOptions> & { textDecoder: { decode(input?: Uint8Array): string } } = {
  // A misspelt field in hand-written JSON ({"numbr": 4}) is an error, as
  // the protobuf JSON mapping prescribes, not a silent default value.
  ignoreUnknownFields: false,
  textDecoder: { decode: (input) => checkJsonShape(decodeUtf8(input)) },
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(input: Uint8Array | undefined): string {
  try {
    return utf8.decode(input);
  } catch {
    throw new Error("the request JSON is not valid UTF-8");
  }
}

/** What the scan stops at: quotes, brackets, braces, commas and colons. */
const structural = /["[\]{},:]/g;

/**
 * Returns `text` unchanged if it nests at most `maxJsonDepth` deep and has at
 * most `maxJsonTokens` strings, brackets, braces, commas and colons. Linear,
 * and a few milliseconds for 4 MiB of any shape.
 */
export function checkJsonShape(text: string): string {
  let depth = 0;
  let tokens = 0;
  structural.lastIndex = 0;
  for (let found = structural.exec(text); found !== null; found = structural.exec(text)) {
    if (++tokens > maxJsonTokens) {
      throw new Error(
        `the request JSON has more than ${maxJsonTokens} strings and punctuation marks; no request message here needs more than a few dozen`,
      );
    }
    switch (found[0]) {
      case '"':
        structural.lastIndex = endOfString(text, found.index + 1);
        break;
      case "[":
      case "{":
        if (++depth > maxJsonDepth) {
          throw new Error(`the request JSON nests deeper than ${maxJsonDepth} levels; no request message here needs more than a few`);
        }
        break;
      case "]":
      case "}":
        depth--;
        break;
    }
  }
  return text;
}

/**
 * Where the string whose content starts at `from` ends: just after its
 * closing quote, or the end of the text. Refuses a `\u` escape of half a
 * surrogate pair: it is not Unicode, protobuf strings cannot hold it, and
 * quoted back in an error it would break the gRPC status message.
 */
function endOfString(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x22) return i + 1;
    if (char !== 0x5c) continue;
    i++; // a backslash escapes the next character
    if (text.charCodeAt(i) !== 0x75) continue; // not \u
    const unit = escapedUnit(text, i + 1);
    if (unit >= 0xdc00 && unit <= 0xdfff) throw loneSurrogate();
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = text.startsWith("\\u", i + 5) ? escapedUnit(text, i + 7) : -1;
      if (low < 0xdc00 || low > 0xdfff) throw loneSurrogate();
      i += 6;
    }
  }
  return text.length;
}

/** The UTF-16 unit that four hex digits at `at` name, or -1. */
function escapedUnit(text: string, at: number): number {
  const digits = text.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? Number.parseInt(digits, 16) : -1;
}

function loneSurrogate(): Error {
  return new Error("the request JSON escapes half of a surrogate pair (such as \\ud800 alone), which is not a Unicode character");
}
