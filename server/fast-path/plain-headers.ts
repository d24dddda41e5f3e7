import type { OutgoingHttpHeaders } from "node:http";
import { DeferredHeaders } from "./deferred-headers.js";

/** A header name as Headers accepts it (an HTTP token). */
const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A value Headers keeps exactly as given: printable ASCII, no whitespace at either end (Headers trims it, and refuses NUL, CR and LF). */
const plainValue = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;

/**
 * The response header (or trailer) of a fast-path call: the Fetch `Headers`
 * interceptors and implementations read and write, kept as a plain object
 * for as long as they only get, set, append, delete or ask about a field.
 * Answers are written from the object with the fields in Headers' order
 * (sorted by name), as connect-node's webHeaderToNodeHeaders writes them,
 * without copying Headers into an object. Anything else (iterating, a
 * Set-Cookie or Cookie field, a name or value Headers would refuse or
 * rewrite) turns it into the real Headers first, so every answer is the
 * Headers' own.
 */
export class PlainHeaders extends DeferredHeaders {
  /** Lowercase name → value, until a real Headers holds the fields. */
  #fields: Record<string, string> | undefined = Object.create(null);
  #headers: Headers | undefined;

  /** As the Headers it is (the typings cannot say so). */
  static create(): Headers {
    return new PlainHeaders() as unknown as Headers;
  }

  /** The fields as Node writes them (a new object, names sorted as Headers iterates them), for a PlainHeaders or any Headers. */
  static toNode(headers: Headers): OutgoingHttpHeaders {
    const fields = headers instanceof PlainHeaders ? headers.#fields : undefined;
    const result: OutgoingHttpHeaders = Object.create(null);
    if (fields === undefined) {
      headers.forEach((value, key) => {
        result[key] = value;
      });
      return result;
    }
    for (const key of sortedKeys(fields)) result[key] = fields[key];
    return result;
  }

  /**
   * connect-es's trailerMux (the header, with each trailer field as
   * `trailer-<name>`) with `content-length` set, as Node writes it; undefined
   * unless both are still plain.
   */
  static muxToNode(header: Headers, trailer: Headers, contentLength: string): OutgoingHttpHeaders | undefined {
    const h = header instanceof PlainHeaders ? header.#fields : undefined;
    const t = trailer instanceof PlainHeaders ? trailer.#fields : undefined;
    if (h === undefined || t === undefined) return undefined;
    const fields: Record<string, string> = Object.assign(Object.create(null), h);
    for (const key in t) {
      const name = `trailer-${key}`;
      const before = fields[name];
      fields[name] = before === undefined ? (t[key] as string) : `${before}, ${t[key]}`;
    }
    fields["content-length"] = contentLength;
    const result: OutgoingHttpHeaders = Object.create(null);
    for (const key of sortedKeys(fields)) result[key] = fields[key];
    return result;
  }

  get(name: string): string | null {
    const key = this.#key(name);
    return key === undefined ? this.real().get(name) : ((this.#fields as Record<string, string>)[key] ?? null);
  }

  has(name: string): boolean {
    const key = this.#key(name);
    return key === undefined ? this.real().has(name) : key in (this.#fields as Record<string, string>);
  }

  set(name: string, value: string): void {
    const key = this.#key(name, value);
    if (key === undefined) this.real().set(name, value);
    else (this.#fields as Record<string, string>)[key] = value;
  }

  append(name: string, value: string): void {
    const key = this.#key(name, value);
    if (key === undefined) {
      this.real().append(name, value);
      return;
    }
    const fields = this.#fields as Record<string, string>;
    const before = fields[key];
    fields[key] = before === undefined ? value : `${before}, ${value}`;
  }

  delete(name: string): void {
    const key = this.#key(name);
    if (key === undefined) this.real().delete(name);
    else delete (this.#fields as Record<string, string>)[key];
  }

  /**
   * The plain object's key for `name` (and `value`, if given), or undefined
   * once the fields are in a real Headers: they move there when a name or
   * value needs Headers' own rules.
   */
  #key(name: string, value = ""): string | undefined {
    if (this.#fields === undefined) return undefined;
    const key = plainName(name);
    return key !== undefined && isPlainValue(value) ? key : undefined;
  }

  /** The real Headers, holding the fields (moved there once): its own methods from then on. */
  protected override real(): Headers {
    let real = this.#headers;
    if (real === undefined) {
      real = new Headers();
      const fields = this.#fields as Record<string, string>;
      for (const key in fields) real.append(key, fields[key] as string);
      this.#fields = undefined;
      this.#headers = real;
    }
    return real;
  }
}

/** The lowercase name, when Headers would keep the field as a plain one (not Set-Cookie or Cookie, which it treats apart). */
function plainName(name: string): string | undefined {
  if (typeof name !== "string" || !token.test(name)) return undefined;
  const key = name.toLowerCase();
  return key === "set-cookie" || key === "cookie" ? undefined : key;
}

function isPlainValue(value: string): boolean {
  return typeof value === "string" && plainValue.test(value);
}

/** The names in Headers' order (by UTF-16 code units), sorted in place: a handful of names, no work array. */
function sortedKeys(fields: Record<string, string>): string[] {
  const keys = Object.keys(fields);
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > key; j--) keys[j + 1] = keys[j] as string;
    keys[j + 1] = key;
  }
  return keys;
}
