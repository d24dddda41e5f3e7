/**
 * A google.api.http path template as OpenAPI writes a path: each variable
 * `{field.path}` or `{field.path=segments}` becomes `{field.path}`, the
 * literal segments and the custom verb (":watch") stay as they are.
 *
 *   Template = "/" Segments [ Verb ] ;
 *   Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   Verb     = ":" LITERAL ;
 */
export interface PathTemplate {
  /** The OpenAPI path, e.g. "/v1/movies/{id}". */
  readonly path: string;
  readonly variables: readonly PathVariable[];
}

export interface PathVariable {
  /** The request field it sets, as the template names it (proto names, dotted for nested fields). */
  readonly fieldPath: string;
  /** The segments it matches: "*" (one segment) unless the template says otherwise, e.g. "shelves/*". */
  readonly segments: string;
}

export function parsePathTemplate(template: string): PathTemplate {
  if (!template.startsWith("/")) throw new Error(`path template "${template}" does not start with "/"`);
  const variables: PathVariable[] = [];
  const path = template.replace(/\{([^}=]*)(?:=([^}]*))?\}/g, (_match, fieldPath: string, segments: string | undefined) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(fieldPath)) {
      throw new Error(`path template "${template}": "${fieldPath}" is not a field path`);
    }
    variables.push({ fieldPath, segments: segments ?? "*" });
    return `{${fieldPath}}`;
  });
  // A wildcard outside a variable matches without setting a field: OpenAPI has no way to say so.
  const literal = path.replace(/\{[^}]*\}/g, "");
  if (/[*{}]/.test(literal)) throw new Error(`path template "${template}": a wildcard outside a variable cannot be described`);
  return { path, variables };
}

/**
 * A JSON Schema pattern for a variable's value: none for one segment, else
 * the segments with "*" as one segment and "**" as any number of them.
 */
export function segmentsPattern(segments: string): string | undefined {
  if (segments === "*") return undefined;
  const parts = segments
    .split("/")
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return `^${parts.join("/")}$`;
}
