import type { DescField, DescMessage } from "@bufbuild/protobuf";

/**
 * The fields a dotted path names in `message`, outermost first, by their
 * names in the contract ("movie.id"); throws naming the part that does not
 * resolve. Every field but the last must be a singular message field.
 */
export function resolveFieldPath(message: DescMessage, path: readonly string[]): DescField[] {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of path) {
    if (current === undefined) throw new Error(`"${path.join(".")}": ${fields.at(-1)?.name} is not a message field`);
    const field: DescField | undefined = current.fields.find((candidate) => candidate.name === name);
    if (field === undefined) throw new Error(`"${path.join(".")}": ${current.typeName} has no field "${name}"`);
    fields.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return fields;
}

/**
 * A message's fields by both the names a client may use in a query
 * parameter: the contract's ("title_contains") and proto3 JSON's
 * ("titleContains"). Built once per message.
 */
export class FieldNames {
  readonly #byMessage = new Map<DescMessage, Map<string, DescField>>();

  find(message: DescMessage, name: string): DescField | undefined {
    let names = this.#byMessage.get(message);
    if (names === undefined) {
      names = new Map();
      for (const field of message.fields) {
        names.set(field.name, field);
        names.set(field.jsonName, field);
      }
      this.#byMessage.set(message, names);
    }
    return names.get(name);
  }
}

/** A field that a path variable or query parameter can set from one string: a scalar or an enum, not repeated. */
export function isSingularValue(field: DescField): boolean {
  return field.fieldKind === "scalar" || field.fieldKind === "enum";
}
