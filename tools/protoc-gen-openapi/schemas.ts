import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { commentOf, paragraphs } from "./comments.js";
import { type Schema, schemaRef } from "./openapi.js";
import { constrainField, messageRulesNote } from "./rules.js";
import { mapKeySchema, scalarSchemas } from "./scalars.js";
import { nullValueEnum, wellKnownSchemas } from "./well-known.js";

/**
 * The JSON Schemas of messages and enums in the proto3 JSON mapping: a
 * message is an object of its fields under their JSON names, an enum the
 * strings of its value names. Each message or enum a document uses becomes
 * one entry of components.schemas, named by its full protobuf name;
 * everything it refers to follows it there.
 */
export class SchemaCollector {
  private readonly built = new Map<string, Schema>();
  private readonly queued = new Set<string>();
  private readonly pending: Array<DescMessage | DescEnum> = [];

  /** The schema that stands for a message wherever it is used: inline for a well-known type, else a reference. */
  message(desc: DescMessage): Schema {
    const wellKnown = wellKnownSchemas.get(desc.typeName);
    if (wellKnown !== undefined) return structuredClone(wellKnown);
    this.enqueue(desc);
    return schemaRef(desc.typeName);
  }

  /** A field's schema with its comment and its rules; `required` when a rule requires it. */
  field(field: DescField): { schema: Schema; required: boolean } {
    const typed = this.fieldType(field);
    const description = paragraphs(commentOf(field), oneofNote(field), typed.description);
    return constrainField(field, description === undefined ? typed : { ...typed, description });
  }

  /** An object schema of some of a message's fields, inline: a request body of the fields the path does not carry. */
  fieldsOf(desc: DescMessage, keep: (field: DescField) => boolean): Schema {
    return this.objectSchema(desc, desc.fields.filter(keep));
  }

  /** components.schemas: every message and enum used so far, and what they use, sorted by name. */
  components(): Record<string, Schema> {
    for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
      this.built.set(next.typeName, next.kind === "message" ? this.messageSchema(next) : enumSchema(next));
    }
    return Object.fromEntries([...this.built].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  private enqueue(desc: DescMessage | DescEnum): void {
    if (this.queued.has(desc.typeName)) return;
    this.queued.add(desc.typeName);
    this.pending.push(desc);
  }

  private messageSchema(desc: DescMessage): Schema {
    const schema = this.objectSchema(desc, desc.fields);
    const description = paragraphs(commentOf(desc), messageRulesNote(desc));
    return description === undefined ? schema : { description, ...schema };
  }

  private objectSchema(desc: DescMessage, fields: readonly DescField[]): Schema {
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const field of fields) {
      const { schema, required: isRequired } = this.field(field);
      properties[field.jsonName] = schema;
      if (isRequired) required.push(field.jsonName);
    }
    const schema: Schema = { type: "object", properties };
    if (required.length > 0) schema.required = required;
    const exclusive = oneofConstraints(desc, fields);
    if (exclusive.length === 1) schema.not = exclusive[0];
    else if (exclusive.length > 1) schema.allOf = exclusive.map((constraint) => ({ not: constraint }));
    return schema;
  }

  private fieldType(field: DescField): Schema {
    if (field.fieldKind === "list") return { type: "array", items: this.valueOf(field) };
    if (field.fieldKind === "map")
      return { type: "object", propertyNames: mapKeySchema(field.mapKey), additionalProperties: this.valueOf(field) };
    return this.valueOf(field);
  }

  /** A singular field's schema, or that of a list's elements or a map's values: each kind of field says which one it holds. */
  private valueOf(field: DescField): Schema {
    if (field.message !== undefined) return this.message(field.message);
    if (field.enum !== undefined) return this.enumUse(field.enum);
    return structuredClone(scalarSchemas[field.scalar]);
  }

  private enumUse(desc: DescEnum): Schema {
    if (desc.typeName === nullValueEnum) return { type: "null" };
    this.enqueue(desc);
    return schemaRef(desc.typeName);
  }
}

/** JSON carries an enum as its value's name (parsers accept the number too). */
function enumSchema(desc: DescEnum): Schema {
  const values = desc.values.map((value) => {
    const comment = commentOf(value);
    return comment === undefined ? `- \`${value.name}\`` : `- \`${value.name}\`: ${comment.replace(/\s*\n\s*/g, " ")}`;
  });
  return {
    type: "string",
    enum: desc.values.map((value) => value.name),
    description: paragraphs(commentOf(desc), values.join("\n")),
  };
}

/** Said on each member of a oneof: which others exclude it. */
function oneofNote(field: DescField): string | undefined {
  const oneof = field.oneof;
  if (oneof === undefined) return undefined;
  const others = oneof.fields.filter((member) => member !== field).map((member) => `\`${member.jsonName}\``);
  if (others.length === 0) return undefined;
  return `Part of \`${oneof.name}\`: set at most one of this and ${others.join(", ")}.`;
}

/** For each oneof with two or more of `fields`, a schema matching objects that set two of its members (to be excluded). */
function oneofConstraints(desc: DescMessage, fields: readonly DescField[]): Schema[] {
  return desc.oneofs.flatMap((oneof) => {
    const members = oneof.fields.filter((field) => fields.includes(field)).map((field) => field.jsonName);
    const pairs = members.flatMap((first, index) => members.slice(index + 1).map((second) => ({ required: [first, second] })));
    if (pairs.length === 0) return [];
    return [pairs.length === 1 && pairs[0] !== undefined ? pairs[0] : { anyOf: pairs }];
  });
}
