import assert from "node:assert/strict";
import { test } from "node:test";
import { create, createFileRegistry, type DescField, type MessageInitShape, setExtension } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldOptionsSchema,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { FieldRulesSchema, field as fieldRules, Ignore } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { constrainField } from "../../tools/protoc-gen-openapi/rules.js";

const { STRING: TYPE_STRING, INT32: TYPE_INT32, INT64: TYPE_INT64, DOUBLE: TYPE_DOUBLE, ENUM: TYPE_ENUM } = FieldDescriptorProto_Type;

/** A field of type `type` in a message of its own, with `rules` as its (buf.validate.field) option. */
function fieldWith(type: FieldDescriptorProto_Type, rules: MessageInitShape<typeof FieldRulesSchema>, repeated = false): DescField {
  const options = create(FieldOptionsSchema);
  setExtension(options, fieldRules, create(FieldRulesSchema, rules));
  const file = create(FileDescriptorProtoSchema, {
    name: "rules_test.proto",
    package: "rules.test",
    syntax: "proto3",
    enumType: [{ name: "Color", value: ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_BLUE"].map((name, number) => ({ name, number })) }],
    messageType: [
      {
        name: "Probe",
        field: [
          {
            name: "value",
            jsonName: "value",
            number: 1,
            type,
            ...(type === TYPE_ENUM ? { typeName: ".rules.test.Color" } : {}),
            label: repeated ? FieldDescriptorProto_Label.REPEATED : FieldDescriptorProto_Label.OPTIONAL,
            options,
          },
        ],
      },
    ],
  });
  const field = createFileRegistry(file, () => undefined).getMessage("rules.test.Probe")?.fields[0];
  assert.ok(field);
  return field;
}

test("string rules become length, pattern and format keywords; `required` marks the property", () => {
  const field = fieldWith(TYPE_STRING, {
    required: true,
    type: {
      case: "string",
      value: { minLen: 1n, maxLen: 10n, pattern: "^[a-z]+$", prefix: "ab", wellKnown: { case: "uuid", value: true } },
    },
  });
  const { schema, required } = constrainField(field, { type: "string" });
  assert.equal(required, true);
  assert.deepEqual(schema, {
    type: "string",
    minLength: 1,
    maxLength: 10,
    pattern: "^[a-z]+$",
    allOf: [{ pattern: "^ab" }],
    format: "uuid",
  });
});

test("numeric bounds become minimum and maximum (exclusive for gt and lt); `in` an enum", () => {
  const bounded = fieldWith(TYPE_INT32, {
    type: { case: "int32", value: { greaterThan: { case: "gte", value: 1 }, lessThan: { case: "lt", value: 100 } } },
  });
  assert.deepEqual(constrainField(bounded, { type: "integer" }).schema, { type: "integer", minimum: 1, exclusiveMaximum: 100 });
  const listed = fieldWith(TYPE_DOUBLE, { type: { case: "double", value: { in: [0.5, 1.5] } } });
  assert.deepEqual(constrainField(listed, { type: "number" }).schema, { type: "number", enum: [0.5, 1.5] });
  // gt above lt means outside the range.
  const outside = fieldWith(TYPE_INT32, {
    type: { case: "int32", value: { greaterThan: { case: "gt", value: 10 }, lessThan: { case: "lt", value: 0 } } },
  });
  assert.deepEqual(constrainField(outside, { type: "integer" }).schema, {
    type: "integer",
    anyOf: [{ exclusiveMaximum: 0 }, { exclusiveMinimum: 10 }],
  });
});

test("64-bit bounds, which JSON carries as strings, are described in words; const and in stay exact", () => {
  const field = fieldWith(TYPE_INT64, { type: { case: "int64", value: { greaterThan: { case: "gt", value: 0n }, notIn: [13n] } } });
  const { schema } = constrainField(field, { type: "string", format: "int64" });
  assert.deepEqual(schema.not, { enum: ["13"] });
  assert.match(schema.description ?? "", /Also checked by the server \(buf\.validate\): `int64` \{"gt":"0"\}\./);
});

test("enum rules name values, not numbers; repeated rules bound the array and constrain its items", () => {
  const color = fieldWith(TYPE_ENUM, { type: { case: "enum", value: { definedOnly: true, notIn: [0] } } });
  assert.deepEqual(constrainField(color, { $ref: "#/components/schemas/rules.test.Color" }).schema, {
    $ref: "#/components/schemas/rules.test.Color",
    not: { enum: ["COLOR_UNSPECIFIED"] },
  });
  const tags = fieldWith(
    TYPE_STRING,
    {
      type: {
        case: "repeated",
        value: { minItems: 1n, maxItems: 5n, unique: true, items: { type: { case: "string", value: { maxLen: 20n } } } },
      },
    },
    true,
  );
  assert.deepEqual(constrainField(tags, { type: "array", items: { type: "string" } }).schema, {
    type: "array",
    items: { type: "string", maxLength: 20 },
    minItems: 1,
    maxItems: 5,
    uniqueItems: true,
  });
});

test("CEL rules go to the description by id, with their expressions for tools", () => {
  const field = fieldWith(TYPE_STRING, { cel: [{ id: "no_spaces", expression: "this.contains(' ') ? 'no spaces' : ''" }] });
  const { schema } = constrainField(field, { type: "string", description: "A word." });
  assert.match(schema.description ?? "", /^A word\.\n\nChecked by the server \(buf\.validate CEL rules.*\): `no_spaces`\.$/s);
  assert.deepEqual(schema["x-buf-validate-cel"], [{ id: "no_spaces", expression: "this.contains(' ') ? 'no spaces' : ''" }]);
});

test("a field whose rules are ignored gets none", () => {
  const field = fieldWith(TYPE_STRING, { ignore: Ignore.ALWAYS, type: { case: "string", value: { maxLen: 3n } } });
  assert.deepEqual(constrainField(field, { type: "string" }), { schema: { type: "string" }, required: false });
});
