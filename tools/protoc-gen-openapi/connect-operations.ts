import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { commentOf, paragraphs, summaryOf } from "./comments.js";
import type { Operation, PathItem } from "./openapi.js";
import type { SchemaCollector } from "./schemas.js";

/**
 * A unary method's Connect endpoint, `/package.Service/Method`: a POST of
 * the request as JSON, and for a method declared free of side effects
 * (idempotency_level NO_SIDE_EFFECTS) a GET with the request in the query,
 * which caches can keep. Streams need the Connect envelope, which no plain
 * HTTP client writes: they are left to the REST routes and Connect clients.
 */
export function connectPathItem(method: DescMethod, schemas: SchemaCollector): { path: string; item: PathItem } | undefined {
  if (method.methodKind !== "unary") return undefined;
  const fullName = `${method.parent.typeName}.${method.name}`;
  const comment = commentOf(method);
  const summary = summaryOf(comment);
  const responses: Operation["responses"] = {
    200: { description: `OK: ${method.output.name}.`, content: { "application/json": { schema: schemas.message(method.output) } } },
    default: { $ref: "#/components/responses/ConnectError" },
  };
  // Key order is reading order in the document.
  const operation = (suffix: string, how: string, rest: Pick<Operation, "parameters" | "requestBody">): Operation => ({
    operationId: `${fullName}.${suffix}`,
    tags: [method.parent.typeName],
    ...(summary === undefined ? {} : { summary }),
    description: paragraphs(comment, how) ?? how,
    ...rest,
    responses,
    "x-rpc-method": fullName,
    "x-rpc-protocol": "connect",
  });
  const item: PathItem = {
    post: operation("connect", "Connect protocol: the request as a JSON POST.", {
      parameters: [{ $ref: "#/components/parameters/ConnectProtocolVersion" }, { $ref: "#/components/parameters/ConnectTimeoutMs" }],
      requestBody: { required: true, content: { "application/json": { schema: schemas.message(method.input) } } },
    }),
  };
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) {
    const how =
      "Connect protocol: a GET with the request as JSON in `message`, for a method free of side effects; caches may keep the answer.";
    item.get = operation("connectGet", how, {
      parameters: [
        { $ref: "#/components/parameters/ConnectGetEncoding" },
        {
          name: "message",
          in: "query",
          required: true,
          description: `The ${method.input.name} as JSON.`,
          schema: { type: "string", contentMediaType: "application/json", contentSchema: schemas.message(method.input) },
        },
        { $ref: "#/components/parameters/ConnectGetVersion" },
        { $ref: "#/components/parameters/ConnectTimeoutMs" },
      ],
    });
  }
  return { path: `/${method.parent.typeName}/${method.name}`, item };
}
