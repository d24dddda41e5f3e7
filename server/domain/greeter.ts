import { ValidationError } from "./errors.js";
import { checkLength, graphemes } from "./text.js";

/** Characters as a person counts them (see `visibleLength`). */
export const maxNameLength = 10;
export const maxGreetingNames = 1_000;

/** Length as a person counts it: "なんしー" is 4, "👍🏽" is 1. */
export function visibleLength(text: string): number {
  return graphemes.count(text);
}

/**
 * Returns the name ready to use in a greeting, or throws a ValidationError if
 * it has more than 10 characters as a person counts them (grapheme
 * clusters). The contract's rules (proto/greeter/v1) already refused an empty
 * name, control characters (a greeting echoes the name, so a newline or a
 * terminal escape would end up in the client's output) and a name too long
 * whose every code point is a character of its own; CEL cannot segment
 * graphemes, so names of emoji and combining marks are counted here, with
 * the same message. A name far too long was refused by its raw length before
 * any of this (wire/text-bounds.ts), and checkLength refuses it again in O(1).
 */
export function checkName(name: string, field = "name"): string {
  checkLength(field, name, maxNameLength, graphemes);
  return name;
}

export function hello(name: string): string {
  return `Hello, ${checkName(name)}!`;
}

export function helloAgain(name: string): string {
  return `Hello again, ${checkName(name)}!`;
}

export function helloInJapanese(name: string): string {
  return `こんにちは, ${checkName(name)}`;
}

export interface Greeting {
  readonly language: string;
  readonly message: string;
}

const greetingsByLanguage: ReadonlyArray<readonly [string, (name: string) => string]> = [
  ["en", (name) => `Hello, ${name}!`],
  ["fr", (name) => `Bonjour, ${name} !`],
  ["es", (name) => `¡Hola, ${name}!`],
  ["de", (name) => `Hallo, ${name}!`],
  ["ja", (name) => `こんにちは、${name}さん！`],
  ["ko", (name) => `안녕하세요, ${name}님!`],
  ["ru", (name) => `Привет, ${name}!`],
];

/** One greeting per language, in a fixed order. */
export function greetingsFor(name: string): Greeting[] {
  const checked = checkName(name);
  return greetingsByLanguage.map(([language, greet]) => ({ language, message: greet(checked) }));
}

/** "Hello, Alice!", "Hello, Alice and Bob!", "Hello, Alice, Bob, and Carol!" */
export function helloEveryone(names: readonly string[]): string {
  if (names.length === 0) {
    throw new ValidationError("name", "required", "send at least one name before closing the stream");
  }
  const list = new Intl.ListFormat("en", { style: "long", type: "conjunction" }).format(names);
  return `Hello, ${list}!`;
}
