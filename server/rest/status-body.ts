import { create, createRegistry, type DescMessage, type JsonObject, toJson } from "@bufbuild/protobuf";
import { type Any, AnySchema, anyPack } from "@bufbuild/protobuf/wkt";
import { type Code, ConnectError } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import type { ErrorBody } from "../transport/http-handler.js";
import type { RouteTable } from "./route-table.js";

/** The detail types a REST error can spell out in JSON (`@type` and fields): google.rpc's error details. */
const detailTypes = createRegistry(file_google_rpc_error_details);

/**
 * An error as REST clients read it (AIP-193): a google.rpc.Status in proto3
 * JSON, `{"code": 3, "message": "...", "details": [{"@type":
 * "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [...]}]}`,
 * the code being the gRPC status number. A detail of a type outside
 * google.rpc's error details is left out: its fields could not be written.
 */
export function statusBody(error: ConnectError): string {
  const details = error.details
    .map(
      (detail): Any =>
        "desc" in detail
          ? anyPack(detail.desc as DescMessage, create(detail.desc as DescMessage, detail.value as never))
          : create(AnySchema, { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value }),
    )
    .filter((detail) => detailTypes.getMessage(detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1)) !== undefined);
  const json = toJson(StatusSchema, create(StatusSchema, { code: error.code, message: error.rawMessage, details }), {
    registry: detailTypes,
  }) as JsonObject;
  // "@type" first, as google.rpc.Status is usually printed and read.
  if (Array.isArray(json.details))
    json.details = json.details.map((detail) => ({ "@type": (detail as JsonObject)["@type"] ?? null, ...(detail as JsonObject) }));
  return JSON.stringify(json);
}

/**
 * Refusals answered before a call (by the listener's screening, or for a
 * request that failed unexpectedly) on the paths the REST routes claim, as
 * REST clients read every other error: a google.rpc.Status.
 */
export function restErrorBody(routes: Pick<RouteTable, "claims">): ErrorBody {
  return (path: string, code: Code, message: string) => (routes.claims(path) ? statusBody(new ConnectError(message, code)) : undefined);
}
