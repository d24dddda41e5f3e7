import { create, createFileRegistry, type DescService, type MessageInitShape, setExtension } from "@bufbuild/protobuf";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  MethodOptions_IdempotencyLevel,
  MethodOptionsSchema,
} from "@bufbuild/protobuf/wkt";
import { http } from "../../gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "../../gen/google/api/http_pb.js";
import type { FastMethod } from "../../server/fast-path/methods.js";

/**
 * A library contract made in code, with what the project's own contracts do
 * not use: resource names (`{name=shelves/*\/books/*}`), nested fields in
 * the path, a message body field, repeated, map, enum, int64 and well-known
 * fields, additional bindings and a custom verb.
 */
const repeated = FieldDescriptorProto_Label.REPEATED;
const T = FieldDescriptorProto_Type;
interface Field {
  readonly name: string;
  readonly number: number;
  readonly type: FieldDescriptorProto_Type;
  readonly label: FieldDescriptorProto_Label;
  readonly typeName?: string;
  readonly jsonName: string;
}

const field = (name: string, number: number, type: FieldDescriptorProto_Type, extra: Partial<Field> = {}): Field => ({
  name,
  number,
  type,
  label: FieldDescriptorProto_Label.OPTIONAL,
  // As protoc fills it in: the runtime takes JSON names from the descriptor.
  jsonName: protoCamelCase(name),
  ...extra,
});
const message = (name: string, fields: Field[], nested: DescriptorProto[] = []): DescriptorProto =>
  create(DescriptorProtoSchema, { name, field: fields, nestedType: nested });
const labels = (number: number): [Field, DescriptorProto] => [
  field("labels", number, T.MESSAGE, { label: repeated, typeName: ".test.v1.ListBooksRequest.LabelsEntry" }),
  create(DescriptorProtoSchema, {
    name: "LabelsEntry",
    field: [field("key", 1, T.STRING), field("value", 2, T.STRING)],
    options: { mapEntry: true },
  }),
];

type Rule = MessageInitShape<typeof HttpRuleSchema>;
const method = (name: string, input: string, output: string, rule: Rule | undefined, safe = false, streaming = false) => {
  const options = create(MethodOptionsSchema, safe ? { idempotencyLevel: MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS } : {});
  if (rule !== undefined) setExtension(options, http, create(HttpRuleSchema, rule));
  return { name, inputType: `.test.v1.${input}`, outputType: `.test.v1.${output}`, options, serverStreaming: streaming };
};

export interface LibraryOptions {
  /** Replaces a method's rule (by method name), to build contracts the route table must refuse. */
  readonly rules?: Record<string, Rule | undefined>;
  /** Makes a method's GET safe or not (by method name). */
  readonly safe?: Record<string, boolean>;
  /** The name of WatchBooksResponse's one field ("title"). */
  readonly streamedField?: string;
}

export function libraryService(options: LibraryOptions = {}): DescService {
  const [labelsField, labelsEntry] = labels(9);
  const rules: Record<string, Rule | undefined> = {
    GetBook: { pattern: { case: "get", value: "/v1/{name=shelves/*/books/*}" } },
    ListBooks: {
      pattern: { case: "get", value: "/v1/shelves/{shelf.id}/books" },
      responseBody: "books",
      additionalBindings: [{ pattern: { case: "get", value: "/v1/books" } }],
    },
    UpdateBook: { pattern: { case: "patch", value: "/v1/{book.name=shelves/*/books/*}" }, body: "book" },
    ArchiveBook: { pattern: { case: "post", value: "/v1/{name=shelves/*/books/*}:archive" }, body: "*" },
    WatchBooks: { pattern: { case: "get", value: "/v1/books:watch" } },
    ...options.rules,
  };
  const safe = { GetBook: true, ListBooks: true, WatchBooks: true, ...options.safe };
  const file = create(FileDescriptorProtoSchema, {
    name: "test/v1/library.proto",
    package: "test.v1",
    syntax: "proto3",
    dependency: ["google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto"],
    enumType: [
      {
        name: "Genre",
        value: [
          { name: "GENRE_UNSPECIFIED", number: 0 },
          { name: "GENRE_FICTION", number: 1 },
        ],
      },
    ],
    messageType: [
      message("Shelf", [field("id", 1, T.STRING), field("theme", 2, T.STRING)]),
      message("Book", [field("name", 1, T.STRING), field("title", 2, T.STRING), field("tags", 3, T.STRING, { label: repeated })]),
      message(
        "ListBooksRequest",
        [
          field("shelf", 1, T.MESSAGE, { typeName: ".test.v1.Shelf" }),
          field("tags", 2, T.STRING, { label: repeated }),
          field("published_after", 3, T.MESSAGE, { typeName: ".google.protobuf.Timestamp" }),
          field("genre", 4, T.ENUM, { typeName: ".test.v1.Genre" }),
          field("available", 5, T.BOOL),
          field("min_pages", 6, T.INT64),
          field("signed", 7, T.MESSAGE, { typeName: ".google.protobuf.BoolValue" }),
          field("genres", 8, T.ENUM, { label: repeated, typeName: ".test.v1.Genre" }),
          labelsField,
        ],
        [labelsEntry],
      ),
      message("ListBooksResponse", [
        field("books", 1, T.MESSAGE, { label: repeated, typeName: ".test.v1.Book" }),
        field("next_page_token", 2, T.STRING),
      ]),
      message("GetBookRequest", [field("name", 1, T.STRING), field("reason", 2, T.STRING)]),
      message("UpdateBookRequest", [field("book", 1, T.MESSAGE, { typeName: ".test.v1.Book" }), field("force", 2, T.BOOL)]),
      message("WatchBooksRequest", []),
      message("WatchBooksResponse", [field(options.streamedField ?? "title", 1, T.STRING)]),
    ],
    service: [
      {
        name: "LibraryService",
        method: [
          method("GetBook", "GetBookRequest", "Book", rules.GetBook, safe.GetBook),
          method("ListBooks", "ListBooksRequest", "ListBooksResponse", rules.ListBooks, safe.ListBooks),
          method("UpdateBook", "UpdateBookRequest", "Book", rules.UpdateBook),
          method("ArchiveBook", "GetBookRequest", "Book", rules.ArchiveBook),
          method("WatchBooks", "WatchBooksRequest", "WatchBooksResponse", rules.WatchBooks, safe.WatchBooks, true),
        ],
      },
    ],
  });
  const deps = new Map([file_google_protobuf_timestamp, file_google_protobuf_wrappers].map((dep) => [dep.proto.name, dep.proto]));
  const registry = createFileRegistry(file, (name) => deps.get(name));
  const service = registry.getService("test.v1.LibraryService");
  if (service === undefined) throw new Error("the fixture has no LibraryService");
  return service;
}

/** The method table's entries for a service, as the route table reads them (only descriptors and kind matter to it). */
export function tableOf(service: DescService): Map<string, FastMethod> {
  const table = new Map<string, FastMethod>();
  for (const method of service.methods) {
    if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") continue;
    table.set(`/${service.typeName}/${method.name}`, { service, method, kind: method.methodKind } as FastMethod);
  }
  return table;
}
