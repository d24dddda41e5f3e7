import type { Parameter, Response, Schema } from "./openapi.js";
import { wellKnownSchemas } from "./well-known.js";

/** The error answers' schemas, for components.schemas. */
export const errorSchemas: Readonly<Record<string, Schema>> = {
  "google.rpc.Status": {
    type: "object",
    description:
      "An error from a REST route (AIP-193): the gRPC status code, a message for developers, and details such as google.rpc.BadRequest with one entry per field that broke a rule.",
    properties: {
      code: { type: "integer", format: "int32", description: "The gRPC status code, e.g. 3 for INVALID_ARGUMENT, 5 for NOT_FOUND." },
      message: { type: "string" },
      details: { type: "array", items: wellKnownSchemas.get("google.protobuf.Any") ?? {} },
    },
    required: ["code"],
  },
  "rest.StreamError": {
    type: "object",
    description: "The last element of a REST server stream that failed after its first message.",
    properties: { error: { $ref: "#/components/schemas/google.rpc.Status" } },
    required: ["error"],
  },
  "connect.Error": {
    type: "object",
    description:
      "An error from a Connect endpoint: the code in snake case, a message for developers, and details (each a protobuf message in base64, with its JSON form in `debug`).",
    properties: {
      code: {
        type: "string",
        enum: [
          ...["canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists", "permission_denied"],
          ...["resource_exhausted", "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal", "unavailable"],
          ...["data_loss", "unauthenticated"],
        ],
      },
      message: { type: "string" },
      details: {
        type: "array",
        items: {
          type: "object",
          properties: {
            type: { type: "string", description: "The detail's message type, e.g. google.rpc.BadRequest." },
            value: { type: "string", contentEncoding: "base64", description: "The detail in the protobuf binary format." },
            debug: { type: "object", additionalProperties: true, description: "The detail in JSON, for reading." },
          },
          required: ["type", "value"],
        },
      },
    },
    required: ["code"],
  },
};

/** The error answers, for components.responses; every operation refers to one as its `default` response. */
export const errorResponses: Readonly<Record<string, Response>> = {
  RestError: {
    description: "An error; the HTTP status follows from the code (400 for INVALID_ARGUMENT, 404 for NOT_FOUND, 401, 403, 429 ...).",
    content: { "application/json": { schema: { $ref: "#/components/schemas/google.rpc.Status" } } },
  },
  ConnectError: {
    description: "An error; the HTTP status follows from the code as the Connect protocol maps it.",
    content: { "application/json": { schema: { $ref: "#/components/schemas/connect.Error" } } },
  },
};

/** The request headers and query parameters of the protocols themselves, for components.parameters. */
export const protocolParameters: Readonly<Record<string, Parameter>> = {
  Timeout: {
    name: "timeout",
    in: "header",
    description: "How long a REST call may take: milliseconds, or with a unit (`2500ms`, `3s`, `1m`); the server caps it. None by default.",
    schema: { type: "string", pattern: "^[0-9]{1,10}(ms|s|m)?$" },
  },
  ConnectProtocolVersion: {
    name: "Connect-Protocol-Version",
    in: "header",
    description: "The Connect protocol version; optional here.",
    schema: { type: "string", enum: ["1"] },
  },
  ConnectTimeoutMs: {
    name: "Connect-Timeout-Ms",
    in: "header",
    description: "How long the call may take, in milliseconds; the server caps it.",
    schema: { type: "string", pattern: "^[0-9]{1,10}$" },
  },
  ConnectGetEncoding: {
    name: "encoding",
    in: "query",
    required: true,
    description: "How `message` is encoded: JSON.",
    schema: { type: "string", enum: ["json"] },
  },
  ConnectGetVersion: {
    name: "connect",
    in: "query",
    description: "The Connect protocol version; optional here.",
    schema: { type: "string", enum: ["v1"] },
  },
};
