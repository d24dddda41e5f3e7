import type { DescField, DescMessage } from "@bufbuild/protobuf";

/** The fields a dotted path of proto names ("movie.id") goes through, from `message` down; throws if one is missing. */
export function resolveFieldPath(message: DescMessage, path: string, where: string): DescField[] {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of path.split(".")) {
    const field: DescField | undefined = current?.fields.find((candidate) => candidate.name === name);
    if (field === undefined) throw new Error(`${where}: ${message.typeName} has no field "${path}"`);
    fields.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return fields;
}

/** The same path with JSON names, as clients write it in a query or body ("movie.id", "pageSize"). */
export function jsonPath(fields: readonly DescField[]): string {
  return fields.map((field) => field.jsonName).join(".");
}
