/**
 * A google.api.http path template (google/api/http.proto, "Path template
 * syntax"), compiled once at start:
 *
 *   Template = "/" Segments [ Verb ] ;
 *   Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   FieldPath = IDENT { "." IDENT } ;
 *   Verb     = ":" LITERAL ;
 */

/** One segment of a template: a literal, `*` (exactly one path segment) or `**` (the rest of the path, maybe none). */
export type Segment = { readonly kind: "literal"; readonly value: string } | { readonly kind: "one" } | { readonly kind: "rest" };

/** A `{field.path=...}` of a template: the field it sets, and the template segments it spans. */
export interface Variable {
  readonly fieldPath: readonly string[];
  /** Index of its first segment in `segments`. */
  readonly start: number;
  /** How many segments it spans. */
  readonly count: number;
}

export interface PathTemplate {
  /** As written in the contract, e.g. "/v1/{name=shelves/*}/books". */
  readonly text: string;
  readonly segments: readonly Segment[];
  readonly variables: readonly Variable[];
  /** The custom verb after the last ":", e.g. "watch"; undefined when there is none. */
  readonly verb: string | undefined;
}

const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What a literal segment or verb may hold: RFC 3986 pchar, less ":" (it starts the verb) and "%" (literals are matched as written). */
const literal = /^[A-Za-z0-9\-._~!$&'()+,;@]+$/;

/** Parses a template; throws an Error naming what is wrong, which the route table reports with the method. */
export function parseTemplate(text: string): PathTemplate {
  if (!text.startsWith("/")) throw new Error(`path template "${text}" must start with "/"`);
  const colon = verbStart(text);
  const verb = colon < 0 ? undefined : text.slice(colon + 1);
  if (verb !== undefined && !literal.test(verb)) throw new Error(`path template "${text}" has an invalid verb ":${verb}"`);
  const body = colon < 0 ? text.slice(1) : text.slice(1, colon);
  const segments: Segment[] = [];
  const variables: Variable[] = [];
  for (const part of splitOutsideBraces(body, text)) {
    if (part.startsWith("{")) {
      if (!part.endsWith("}")) throw new Error(`path template "${text}" has an unclosed variable "${part}"`);
      const inner = part.slice(1, -1);
      const equals = inner.indexOf("=");
      const path = equals < 0 ? inner : inner.slice(0, equals);
      const fieldPath = path.split(".");
      if (!fieldPath.every((name) => ident.test(name))) throw new Error(`path template "${text}" has an invalid field path "${path}"`);
      if (variables.some((variable) => variable.fieldPath.join(".") === path)) {
        throw new Error(`path template "${text}" binds the field "${path}" twice`);
      }
      const start = segments.length;
      const pattern = equals < 0 ? "*" : inner.slice(equals + 1);
      for (const sub of pattern.split("/")) segments.push(plainSegment(sub, text));
      variables.push({ fieldPath, start, count: segments.length - start });
    } else {
      segments.push(plainSegment(part, text));
    }
  }
  const rest = segments.findIndex((segment) => segment.kind === "rest");
  if (rest >= 0 && rest !== segments.length - 1) throw new Error(`path template "${text}" has "**" before its last segment`);
  return { text, segments, variables, verb };
}

/** Where the verb's ":" is: the last one outside braces and after the last "/", or -1. */
function verbStart(text: string): number {
  let depth = 0;
  let found = -1;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "{") depth++;
    else if (char === "}") depth--;
    else if (char === "/" && depth === 0) found = -1;
    else if (char === ":" && depth === 0) found = i;
  }
  return found;
}

/** Splits on the "/" that are not inside a variable, so `{name=shelves/*}` stays one part. */
function splitOutsideBraces(body: string, text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char === "{") {
      if (++depth > 1) throw new Error(`path template "${text}" nests a variable in another`);
    } else if (char === "}") {
      if (--depth < 0) throw new Error(`path template "${text}" closes a variable it never opened`);
    } else if (char === "/" && depth === 0) {
      parts.push(body.slice(from, i));
      from = i + 1;
    }
  }
  if (depth !== 0) throw new Error(`path template "${text}" has an unclosed variable`);
  parts.push(body.slice(from));
  return parts;
}

function plainSegment(part: string, text: string): Segment {
  if (part === "*") return { kind: "one" };
  if (part === "**") return { kind: "rest" };
  if (!literal.test(part)) throw new Error(`path template "${text}" has an invalid segment "${part}"`);
  return { kind: "literal", value: part };
}

/** A template's variables' values for one path, percent-decoded. */
export type Bindings = ReadonlyArray<readonly [Variable, string]>;

/**
 * Matches a request path (no query) against a template: the variables'
 * values, or undefined when it does not match, or a string saying why a
 * matching path cannot be read (bad percent-encoding).
 *
 * A variable of one segment is decoded whole, "%2F" included; one of
 * several segments keeps "%2F" as it is, so its value's "/" are the path's
 * own (http.proto, "Path template syntax"). A `*` never matches an empty
 * segment: no resource has an empty name.
 */
export function matchTemplate(template: PathTemplate, path: string): Bindings | string | undefined {
  let rest = path;
  if (template.verb !== undefined) {
    const suffix = `:${template.verb}`;
    if (!rest.endsWith(suffix)) return undefined;
    rest = rest.slice(0, -suffix.length);
  }
  if (!rest.startsWith("/")) return undefined;
  const parts = rest.slice(1).split("/");
  const { segments } = template;
  const open = segments.at(-1)?.kind === "rest";
  if (open ? parts.length < segments.length - 1 : parts.length !== segments.length) return undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as Segment;
    const part = parts[i];
    if (segment.kind === "rest") break;
    if (part === undefined || part === "") return undefined;
    if (segment.kind === "literal" && segment.value !== part) return undefined;
  }
  const bindings: Array<readonly [Variable, string]> = [];
  for (const variable of template.variables) {
    const spansRest = segments[variable.start + variable.count - 1]?.kind === "rest";
    const end = spansRest ? parts.length : variable.start + variable.count;
    const raw = parts.slice(variable.start, end);
    const value = decodeSegments(raw);
    if (value === undefined) return `the path segment "${raw.join("/")}" is not valid percent-encoding`;
    bindings.push([variable, value]);
  }
  return bindings;
}

function decodeSegments(raw: readonly string[]): string | undefined {
  try {
    if (raw.length === 1) return decodeURIComponent(raw[0] as string);
    // Each "%2F" stays as written; everything else is decoded.
    return raw
      .map((part) =>
        part
          .split(/(%2F)/i)
          .map((piece, i) => (i % 2 === 1 ? piece : decodeURIComponent(piece)))
          .join(""),
      )
      .join("/");
  } catch {
    return undefined;
  }
}

/**
 * How specific a template is, to choose between two that match one path:
 * more literal segments first, then a verb, then fewer segments of `**`.
 */
export function specificity(template: PathTemplate): number {
  let score = 0;
  for (const segment of template.segments) {
    if (segment.kind === "literal") score += 100;
    else if (segment.kind === "rest") score -= 1;
  }
  return score + (template.verb === undefined ? 0 : 10);
}
