import { ValidationError } from "./errors.js";

/** Unicode's control characters (general category Cc): U+0000–U+001F and U+007F–U+009F. */
const controlCharacters = /\p{Cc}/u;
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A required line of text: trimmed, 1 to `max` characters (code points), no
 * control characters (PostgreSQL cannot store NUL, and none belong in a name).
 */
export function requiredText(field: string, value: string, max: number): string {
  const text = value.trim();
  if (text === "") throw new ValidationError(field, "required", `${field} is required`);
  return checkedText(field, text, max);
}

/** Optional text (a filter, a key): empty stays empty, anything else follows the rules of `requiredText`. */
export function optionalText(field: string, value: string, max: number): string {
  const text = value.trim();
  return text === "" ? "" : checkedText(field, text, max);
}

function checkedText(field: string, text: string, max: number): string {
  const length = [...text].length;
  if (length > max) {
    throw new ValidationError(field, "max_length", `${field} cannot be more than ${max} characters, got ${length}`);
  }
  if (controlCharacters.test(text)) {
    throw new ValidationError(field, "no_control_characters", `${field} must not contain control characters`);
  }
  return text;
}

/** A UUID in canonical lowercase form. */
export function requiredUuid(field: string, value: string): string {
  const id = value.trim();
  if (id === "") throw new ValidationError(field, "required", `${field} is required`);
  if (!uuidPattern.test(id)) throw new ValidationError(field, "uuid", `${field} must be a UUID, got "${preview(id)}"`);
  return id.toLowerCase();
}

/** Enough of a bad value to recognise it in an error message, never a whole megabyte. */
export function preview(value: string): string {
  const chars = [...value];
  return chars.length > 40 ? `${chars.slice(0, 40).join("")}…` : value;
}
