import type { DescField, DescMessage, DescMethod } from "@bufbuild/protobuf";
import { commentOf, paragraphs, summaryOf } from "./comments.js";
import { jsonPath, resolveFieldPath } from "./fields.js";
import type { HttpBinding } from "./http-rule.js";
import type { Content, Operation, Parameter, Schema } from "./openapi.js";
import { type PathVariable, parsePathTemplate, segmentsPattern } from "./path-template.js";
import type { SchemaCollector } from "./schemas.js";
import { wellKnownSchemas } from "./well-known.js";

/** A REST route's operation, with the OpenAPI path it goes under. */
export interface RestOperation {
  readonly path: string;
  readonly operation: Operation;
}

/**
 * The operation of one google.api.http binding of `method`: path variables
 * as path parameters, the body as the rule says, every other field of the
 * request as a query parameter (under its JSON name, nested ones dotted),
 * and the response, or its `response_body` field. A server stream is
 * answered as a JSON array, NDJSON or Server-Sent Events, by Accept.
 */
export function restOperation(method: DescMethod, binding: HttpBinding, index: number, schemas: SchemaCollector): RestOperation {
  const where = `${method.parent.typeName}.${method.name} (${binding.method.toUpperCase()} ${binding.path})`;
  if (method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming") {
    throw new Error(`${where}: a client stream cannot be a REST route`);
  }
  const template = parsePathTemplate(binding.path);
  const { parameters, requestBody } = requestParts(method.input, binding, template.variables, schemas, where);
  // Key order is reading order in the document.
  const operation: Operation = {
    operationId: `${method.parent.typeName}.${method.name}${index === 0 ? "" : `.binding${index}`}`,
    tags: [method.parent.typeName],
    ...describe(method),
    parameters: [...parameters, { $ref: "#/components/parameters/Timeout" }],
    ...(requestBody === undefined ? {} : { requestBody }),
    responses: { 200: successResponse(method, binding, schemas, where), default: { $ref: "#/components/responses/RestError" } },
    "x-rpc-method": `${method.parent.typeName}.${method.name}`,
    "x-rpc-protocol": "rest",
  };
  return { path: template.path, operation };
}

/**
 * Where each field of the request comes from: the path variables, then the
 * body ("*": every field the path does not carry; a field name: that field),
 * then the query, which gets every field left.
 */
function requestParts(
  request: DescMessage,
  binding: HttpBinding,
  variables: readonly PathVariable[],
  schemas: SchemaCollector,
  where: string,
): Pick<Operation, "parameters" | "requestBody"> & { parameters: Parameter[] } {
  const bound = variables.map((variable) => resolveFieldPath(request, variable.fieldPath, where));
  const parameters = variables.map((variable, at) => pathParameter(variable, bound[at] ?? [], schemas, where));
  const boundWhole = new Set(bound.flatMap(([field, ...nested]) => (field !== undefined && nested.length === 0 ? [field] : [])));
  if (binding.body === "*") {
    const inPath = [...boundWhole].map((field) => `\`${field.jsonName}\``).join(", ");
    const schema =
      boundWhole.size === 0
        ? schemas.message(request)
        : {
            description: `${request.name} without ${inPath}, which the path carries.`,
            ...schemas.fieldsOf(request, (field) => !boundWhole.has(field)),
          };
    return { parameters, requestBody: { required: true, content: { "application/json": { schema } } } };
  }
  const bodyField = binding.body === "" ? undefined : resolveFieldPath(request, binding.body, where);
  if (bodyField !== undefined && bodyField.length !== 1)
    throw new Error(`${where}: body "${binding.body}" is not a field of the request itself`);
  const inBody = bodyField?.[0];
  const boundNested = new Set(bound.filter((fields) => fields.length > 1).map((fields) => jsonPath(fields)));
  const remaining = request.fields.filter((field) => field !== inBody && !boundWhole.has(field));
  parameters.push(...queryParameters(remaining, "", new Set([request.typeName]), boundNested, schemas));
  if (inBody === undefined) return { parameters };
  return { parameters, requestBody: { required: true, content: { "application/json": { schema: schemas.field(inBody).schema } } } };
}

function describe(method: DescMethod): Pick<Operation, "summary" | "description"> {
  const comment = commentOf(method);
  const streaming =
    method.methodKind === "server_streaming"
      ? "A server stream: by default a JSON array written as messages arrive; with `Accept: application/x-ndjson` one JSON object per line; with `Accept: text/event-stream` Server-Sent Events, which an EventSource can follow."
      : undefined;
  const summary = summaryOf(comment);
  const description = paragraphs(comment, streaming);
  return { ...(summary === undefined ? {} : { summary }), ...(description === undefined ? {} : { description }) };
}

function pathParameter(variable: PathVariable, fields: readonly DescField[], schemas: SchemaCollector, where: string): Parameter {
  const leaf = fields[fields.length - 1];
  if (leaf === undefined || !(leaf.fieldKind === "scalar" || leaf.fieldKind === "enum")) {
    throw new Error(`${where}: the path variable "${variable.fieldPath}" is not a single scalar or enum field`);
  }
  const parameter = fieldParameter(variable.fieldPath, "path", leaf, schemas);
  const pattern = segmentsPattern(variable.segments);
  if (pattern === undefined) return { ...parameter, required: true };
  const { schema } = parameter;
  return {
    ...parameter,
    required: true,
    description: paragraphs(parameter.description, `Matches \`${variable.segments}\`; its slashes are sent as they are.`),
    schema: schema.pattern === undefined ? { ...schema, pattern } : { ...schema, allOf: [...(schema.allOf ?? []), { pattern }] },
  };
}

/** A parameter that sets one field: the field's schema, its description on the parameter. */
function fieldParameter(name: string, location: "path" | "query", field: DescField, schemas: SchemaCollector): Parameter {
  const { schema, required } = schemas.field(field);
  const { description, ...bare } = schema;
  return {
    name,
    in: location,
    ...(description === undefined ? {} : { description }),
    ...(required ? { required } : {}),
    schema: bare,
  };
}

/**
 * Query parameters for `fields` and, through messages, their fields: each
 * value a field holds in a query string (scalars, enums, lists of them, the
 * well-known types that JSON writes as one value). Maps and other messages
 * without fields of their own cannot be sent in a query and are left out.
 */
function queryParameters(
  fields: readonly DescField[],
  prefix: string,
  seen: ReadonlySet<string>,
  boundNested: ReadonlySet<string>,
  schemas: SchemaCollector,
): Parameter[] {
  return fields.flatMap((field): Parameter[] => {
    const name = `${prefix}${field.jsonName}`;
    if (boundNested.has(name)) return [];
    const single = field.fieldKind === "scalar" || field.fieldKind === "enum";
    const listOfValues = field.fieldKind === "list" && field.listKind !== "message";
    const oneValueMessage = field.fieldKind === "message" && isOneValue(field.message);
    if (single || listOfValues || oneValueMessage) {
      const parameter = fieldParameter(name, "query", field, schemas);
      return [listOfValues ? { ...parameter, style: "form", explode: true } : parameter];
    }
    if (field.fieldKind === "message" && !seen.has(field.message.typeName) && !wellKnownSchemas.has(field.message.typeName)) {
      return queryParameters(field.message.fields, `${name}.`, new Set([...seen, field.message.typeName]), boundNested, schemas);
    }
    return [];
  });
}

/** A well-known type JSON writes as one string, number or boolean (Timestamp, Duration, FieldMask, the wrappers). */
function isOneValue(message: DescMessage): boolean {
  const type = wellKnownSchemas.get(message.typeName)?.type;
  return type === "string" || type === "number" || type === "integer" || type === "boolean";
}

function successResponse(
  method: DescMethod,
  binding: HttpBinding,
  schemas: SchemaCollector,
  where: string,
): { description: string; content: Content } {
  const output = method.output;
  const field = binding.responseBody === "" ? undefined : resolveFieldPath(output, binding.responseBody, where);
  if (field !== undefined && field.length !== 1)
    throw new Error(`${where}: response_body "${binding.responseBody}" is not a field of the response itself`);
  const responseField = field?.[0];
  const schema = responseField === undefined ? schemas.message(output) : schemas.field(responseField).schema;
  const what = responseField === undefined ? output.name : `the \`${responseField.jsonName}\` of ${output.name}`;
  if (method.methodKind !== "server_streaming") return { description: `OK: ${what}.`, content: { "application/json": { schema } } };
  // A stream that fails after its first message cannot change its status: its last element says so.
  const item: Schema = { anyOf: [schema, { $ref: "#/components/schemas/rest.StreamError" }] };
  return {
    description: `OK: a stream of ${what}, in the form the Accept header asks for; if it fails once under way, its last element is \`{"error": <google.rpc.Status>}\`.`,
    content: {
      "application/json": { schema: { type: "array", items: item } },
      "application/x-ndjson": { schema: item },
      "text/event-stream": {
        schema: {
          type: "string",
          description: `Server-Sent Events: a \`message\` event per message (${what}, as JSON in \`data\`), then \`end\`, or \`error\` with a google.rpc.Status. Events have no id: a reconnection is a new call.`,
        },
      },
    },
  };
}
