import type { Message } from "@bufbuild/protobuf";
import { ValidationError } from "../domain/errors.js";
import { type Counting, codePoints, graphemes, preview, refuseOverlong } from "../domain/text.js";

/**
 * The rules in the contracts count characters and match patterns, work that
 * grows with the text. Before any of them reads a string field, its raw
 * length (UTF-16 code units, known in O(1)) is compared with the most its
 * rule could ever accept, and anything longer is refused unread, with a
 * message that says how long it was. READ_MAX_BYTES and the JSON shape limits
 * (json-shape.ts) bound the message as a whole before it is even parsed.
 */
type Bound =
  /** Text of at most `max` characters counted as `counting` counts them. */
  | { readonly kind: "text"; readonly max: number; readonly counting: Counting }
  /** An identifier whose error quotes the start of the value, refused above `maxUnits`. */
  | { readonly kind: "id"; readonly maxUnits: number; readonly rule: string; readonly explain: string };

const name: Bound = { kind: "text", max: 10, counting: graphemes };
const line: Bound = { kind: "text", max: 200, counting: codePoints };
/** 1 to 100 characters, spaces around them included. */
const movieId: Bound = {
  kind: "id",
  maxUnits: 200,
  rule: "format",
  explain: "must be 1 to 100 letters, digits, '-', '_', '.' or '~'",
};
/** A UUID is 36 characters; 64 leaves room for spaces around it. */
const uuid: Bound = { kind: "id", maxUnits: 64, rule: "uuid", explain: "must be a UUID" };

/** By request message (full name), the bound of each string field (proto name) that has one. */
const bounds = new Map<string, Readonly<Record<string, Bound>>>([
  ["greeter.v1.SayHelloRequest", { name }],
  ["greeter.v1.SayHelloAgainRequest", { name }],
  ["greeter.v1.LotsOfRepliesRequest", { name }],
  ["greeter.v1.LotsOfGreetingsRequest", { name }],
  ["greeter.v1.BidiHelloRequest", { name }],
  ["movie.v1.GetMovieRequest", { id: movieId }],
  ["movie.v1.ListMoviesRequest", { title_contains: line, director_contains: line }],
  ["movie.v1.CreateMovieRequest", { id: movieId, title: line, director: line }],
  ["movie.v1.UpdateMovieRequest", { id: movieId, title: line, director: line }],
  ["movie.v1.DeleteMovieRequest", { id: movieId }],
  ["order.v1.CreateOrderRequest", { name: line, idempotency_key: line }],
  ["order.v1.GetOrderRequest", { id: uuid }],
  ["order.v1.UpdateOrderRequest", { id: uuid, name: line }],
  ["order.v1.DeleteOrderRequest", { id: uuid }],
]);

/** The same, with each field's property name worked out once, not per call. */
const boundFields: ReadonlyMap<string, ReadonlyArray<readonly [field: string, property: string, bound: Bound]>> = new Map(
  [...bounds].map(([typeName, fields]) => [
    typeName,
    Object.entries(fields).map(([field, bound]) => [field, camelCase(field), bound] as const),
  ]),
);

/** Throws a ValidationError for the first string field of `message` longer than any value its rule accepts. */
export function refuseUnbounded(message: Message): void {
  const fields = boundFields.get(message.$typeName);
  if (fields === undefined) return;
  for (const [field, property, bound] of fields) {
    const value: unknown = (message as unknown as Record<string, unknown>)[property];
    if (typeof value !== "string") continue;
    if (bound.kind === "text") {
      refuseOverlong(field, value, bound.max, bound.counting);
    } else if (value.length > bound.maxUnits) {
      throw new ValidationError(field, bound.rule, `${field} ${bound.explain}, got "${preview(value)}"`);
    }
  }
}

function camelCase(protoName: string): string {
  return protoName.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
