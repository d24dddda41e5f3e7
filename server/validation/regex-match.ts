import type { ValidatorOptions } from "@bufbuild/protovalidate";
import { RE2JS } from "@bufbuild/re2";

type RegexMatcher = NonNullable<ValidatorOptions["regexMatch"]>;
type Test = (text: string) => boolean;

/**
 * The regular-expression engine behind the contracts' `matches()` rules on
 * the server: each RE2 pattern is translated once into a JavaScript RegExp
 * that accepts exactly the same strings, and V8's compiled matcher runs it.
 * protovalidate's default, RE2JS (RE2 written in JavaScript), took about
 * 9 µs to match a 36-character id, and 4.7 ms for the worst 600-character
 * name against the old length pattern; V8 takes 0.3 µs and 1 µs.
 *
 * Only a subset of RE2 is translated, the one whose meaning is the same in
 * both engines once spelled out: `\s`, `\d`, `\w` and `.` are written as the
 * ASCII classes RE2 means by them (JavaScript's own are wider), `\x{…}`
 * becomes `\u{…}`, `(?s)` at the start becomes the `s` flag, `\p{…}` is
 * kept for general categories only. Any other construct (case folding,
 * POSIX classes, `\b`, scripts, flags mid-pattern…) and any pattern V8
 * refuses is matched by RE2JS, as before. Two things can still differ: the
 * Unicode version of `\p{…}` tables (characters assigned since RE2JS's), and
 * time. V8 backtracks, so a pattern is only as fast as its own shape: the
 * contracts' patterns never offer two ways to match the same text, and
 * every string is bounded before a rule reads it (wire/text-bounds.ts).
 */
export const regexMatch: RegexMatcher = (pattern, against) => compiled(pattern)(against);

const cacheLimit = 1024;
const cache = new Map<string, Test>();

function compiled(pattern: string): Test {
  let test = cache.get(pattern);
  if (test === undefined) {
    // CEL rules may build patterns from input: a bounded cache, as protovalidate's own.
    if (cache.size >= cacheLimit) cache.clear();
    test = compile(pattern);
    cache.set(pattern, test);
  }
  return test;
}

function compile(pattern: string): Test {
  const translated = toJavaScript(pattern);
  if (translated !== undefined) {
    try {
      const regExp = new RegExp(translated.source, translated.flags);
      return (text) => regExp.test(text);
    } catch {
      // V8 refuses what the translation let through: RE2JS decides, as before.
    }
  }
  const re2 = RE2JS.compile(pattern);
  return (text) => re2.test(text);
}

/** RE2's \s, \d and \w are ASCII: the JavaScript classes with the same members. */
const asciiClasses: Readonly<Record<string, string>> = { s: "\\t\\n\\f\\r ", d: "0-9", w: "0-9A-Za-z_" };
/** Unicode general categories that mean the same in RE2 and JavaScript (JavaScript's C also holds unassigned code points). */
const categories = new Set("L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp Cc Cf Co Cs".split(" "));
const simpleEscapes: Readonly<Record<string, string>> = { t: "\\t", n: "\\n", r: "\\r", f: "\\f", v: "\\v", a: "\\x07" };
/** Characters RE2 lets a backslash quote that JavaScript's Unicode mode also accepts quoted. */
const syntaxCharacters = new Set("\\^$.|?*+()[]{}/-");

/** The JavaScript spelling of an RE2 pattern, or undefined when it is outside the translated subset. */
export function toJavaScript(pattern: string): { readonly source: string; readonly flags: string } | undefined {
  let at = 0;
  let out = "";
  let dotAll = false;
  const leadingFlags = /^(\^?)\(\?s\)/.exec(pattern);
  if (leadingFlags !== null) {
    out = leadingFlags[1] ?? "";
    at = leadingFlags[0].length;
    dotAll = true;
  }
  while (at < pattern.length) {
    const char = pattern[at] as string;
    if (char === "\\") {
      const escaped = translateEscape(pattern, at, false);
      if (escaped === undefined) return undefined;
      out += escaped.source;
      at = escaped.end;
    } else if (char === "[") {
      const set = translateClass(pattern, at);
      if (set === undefined) return undefined;
      out += set.source;
      at = set.end;
    } else if (char === ".") {
      out += dotAll ? "." : "[^\\n]";
      at++;
    } else if (char === "(") {
      if (pattern[at + 1] === "?" && pattern[at + 2] !== ":") return undefined;
      out += char;
      at++;
    } else if (char === "{") {
      const repeat = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
      // RE2 reads a brace that starts no repetition as itself; counts over 1,000 it refuses.
      if (repeat === null || Number(repeat[1]) > 1000 || Number(repeat[3] ?? 0) > 1000) return undefined;
      out += repeat[0];
      at += repeat[0].length;
    } else if (char === "}" || char === "]") {
      out += `\\${char}`;
      at++;
    } else {
      out += char;
      at++;
    }
  }
  return { source: out, flags: dotAll ? "su" : "u" };
}

interface Translated {
  readonly source: string;
  /** The index just past what was translated. */
  readonly end: number;
}

function translateClass(pattern: string, start: number): Translated | undefined {
  let at = start + 1;
  let out = "[";
  if (pattern[at] === "^") {
    out += "^";
    at++;
  }
  // "[]a]" and "[^]a]" hold a "]" in RE2; POSIX classes ("[[:alpha:]]") have no JavaScript spelling.
  if (pattern[at] === "]") return undefined;
  while (at < pattern.length && pattern[at] !== "]") {
    const char = pattern[at] as string;
    if (char === "[") return undefined;
    if (char === "\\") {
      const escaped = translateEscape(pattern, at, true);
      if (escaped === undefined) return undefined;
      out += escaped.source;
      at = escaped.end;
    } else {
      out += char;
      at++;
    }
  }
  if (at >= pattern.length) return undefined;
  return { source: `${out}]`, end: at + 1 };
}

function translateEscape(pattern: string, start: number, inClass: boolean): Translated | undefined {
  const char = pattern[start + 1];
  if (char === undefined) return undefined;
  const ascii = asciiClasses[char];
  if (ascii !== undefined) return { source: inClass ? ascii : `[${ascii}]`, end: start + 2 };
  const negated = asciiClasses[char.toLowerCase()];
  if (negated !== undefined && char !== char.toLowerCase()) {
    return inClass ? undefined : { source: `[^${negated}]`, end: start + 2 };
  }
  const simple = simpleEscapes[char];
  if (simple !== undefined) return { source: simple, end: start + 2 };
  if (char === "p" || char === "P") {
    const property = /^\{([A-Za-z]+)\}|^([A-Za-z])/.exec(pattern.slice(start + 2));
    const name = property?.[1] ?? property?.[2];
    if (property === null || name === undefined || !categories.has(name)) return undefined;
    return { source: `\\${char}{${name}}`, end: start + 2 + property[0].length };
  }
  if (char === "x") {
    const code = /^\{([0-9A-Fa-f]{1,6})\}|^([0-9A-Fa-f]{2})/.exec(pattern.slice(start + 2));
    const hex = code?.[1] ?? code?.[2];
    const point = hex === undefined ? Number.NaN : Number.parseInt(hex, 16);
    // Surrogates are no characters of UTF-8 text, which RE2 reads.
    if (code === null || !(point <= 0x10ffff) || (point >= 0xd800 && point <= 0xdfff)) return undefined;
    return { source: `\\u{${hex}}`, end: start + 2 + code[0].length };
  }
  if (syntaxCharacters.has(char)) {
    // Unicode mode accepts "\-" inside a class only.
    return { source: char === "-" && !inClass ? "-" : `\\${char}`, end: start + 2 };
  }
  return undefined;
}
