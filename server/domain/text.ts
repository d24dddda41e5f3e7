import { ValidationError } from "./errors.js";

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How a field counts its characters. Counting takes time that grows with the
 * text (and segmenting graphemes, on some ICU versions, far faster than
 * that), so a length check first compares the raw length, in UTF-16 code
 * units and in O(1), with the most that `max` characters can take, and
 * refuses anything longer before counting at all.
 */
export interface Counting {
  /** The most UTF-16 code units one character can take. */
  readonly maxUnitsPerCharacter: number;
  count(text: string): number;
}

/** Unicode code points, as PostgreSQL's length() counts them: one takes one or two UTF-16 code units. */
export const codePoints: Counting = {
  maxUnitsPerCharacter: 2,
  count(text) {
    let count = 0;
    for (const _ of text) count++;
    return count;
  },
};

// Made on first use: a segmenter loads ICU's break rules, a few MB of RSS
// that a server which never counts graphemes (no Greeter call) does without.
let segmenter: Intl.Segmenter | undefined;

/**
 * Characters as a person counts them (grapheme clusters): "なんしー" is 4,
 * "👍🏽" is 1. The longest emoji sequences (a family with skin tones) take 19
 * code units, so 32 per character refuses no real name unread.
 */
export const graphemes: Counting = {
  maxUnitsPerCharacter: 32,
  count(text) {
    let count = 0;
    segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
    for (const _ of segmenter.segment(text)) count++;
    return count;
  },
};

/** The most UTF-16 code units a text of `max` characters may take; anything longer is refused unread. */
export function maxUnits(max: number, counting: Counting): number {
  return max * counting.maxUnitsPerCharacter;
}

/**
 * Refuses text that cannot have `max` characters or fewer, looking at its
 * raw length only: O(1), whatever its size. Call it before any other work on
 * the text (trimming, counting, regular expressions).
 */
export function refuseOverlong(field: string, text: string, max: number, counting: Counting = codePoints): void {
  if (text.length > maxUnits(max, counting)) throw tooLong(field, max, `${text.length} UTF-16 code units`);
}

/** Throws unless `text` has at most `max` characters; O(1) for text over the raw bound. */
export function checkLength(field: string, text: string, max: number, counting: Counting = codePoints): void {
  refuseOverlong(field, text, max, counting);
  // Neither way of counting ever finds more characters than code units.
  if (text.length <= max) return;
  const length = counting.count(text);
  if (length > max) throw tooLong(field, max, String(length));
}

/**
 * Enough of a bad value to recognise it in an error message, never a whole
 * megabyte: its first `max` UTF-16 code units (never half a surrogate pair).
 * O(max), whatever the size of the value.
 */
export function preview(value: string, max = 40): string {
  if (value.length <= max) return value;
  const last = value.charCodeAt(max - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
  return `${value.slice(0, end)}…`;
}

function tooLong(field: string, max: number, got: string): ValidationError {
  return new ValidationError(field, "max_length", `${field} cannot be more than ${max} characters, got ${got}`);
}
