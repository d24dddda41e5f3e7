import { create, toBinary } from "@bufbuild/protobuf";
import { SquareRootRequestSchema, SquareRootResponseSchema } from "../../gen/calculator/v1/calculator_pb.js";
import { NumberSchema } from "../../gen/tutorial/calculator/calculator_pb.js";

/**
 * The bytes every server gets and the canned answers of the raw limits. The
 * gRPC workloads call the tutorial contract (/Calculator/SquareRoot), which
 * grpc-js and grpcio serve too; the Connect and gRPC-Web ones call
 * calculator.v1, because the tutorial contract declares no idempotency and so
 * allows no Connect GET: one contract for every Connect-family row.
 */

export const tutorialSquareRootPath = "/Calculator/SquareRoot";
export const v1SquareRootPath = "/calculator.v1.CalculatorService/SquareRoot";

/** A gRPC / gRPC-Web length-prefixed message: flags byte, 4-byte big-endian length, the bytes. */
export function frame(message: Uint8Array, flags = 0): Buffer {
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt8(flags, 0);
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** The operand of every SquareRoot call. */
export const operand = 2;

export const grpcSquareRootRequest = frame(toBinary(NumberSchema, create(NumberSchema, { value: operand })));
/** The single-precision answer the tutorial contract carries. */
export const grpcSquareRootReply = frame(toBinary(NumberSchema, create(NumberSchema, { value: Math.fround(Math.sqrt(operand)) })));

export const connectJsonRequest = Buffer.from(JSON.stringify({ number: operand }));
export const connectJsonReply = Buffer.from(JSON.stringify({ result: Math.sqrt(operand) }));
export const connectGetQuery = `?encoding=json&message=${encodeURIComponent(connectJsonRequest.toString())}`;

export const grpcWebRequest = frame(toBinary(SquareRootRequestSchema, create(SquareRootRequestSchema, { number: operand })));
/** gRPC-Web carries the trailers in the body, as a frame with the high bit of its flags set. */
export const grpcWebReply = Buffer.concat([
  frame(toBinary(SquareRootResponseSchema, create(SquareRootResponseSchema, { result: Math.sqrt(operand) }))),
  frame(Buffer.from("grpc-status: 0\r\n"), 0x80),
]);

/** The messages of a gRPC or gRPC-Web body, data and trailer frames apart; throws on a truncated frame. */
export function splitFrames(body: Uint8Array): { messages: Uint8Array[]; trailers: string | undefined } {
  const messages: Uint8Array[] = [];
  let trailers: string | undefined;
  let at = 0;
  const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  while (at < view.length) {
    if (at + 5 > view.length) throw new Error(`a truncated frame header at byte ${at} of ${view.length}`);
    const flags = view.readUInt8(at);
    const length = view.readUInt32BE(at + 1);
    const end = at + 5 + length;
    if (end > view.length) throw new Error(`a frame of ${length} bytes at byte ${at} runs past the body's end (${view.length})`);
    const payload = view.subarray(at + 5, end);
    if ((flags & 0x80) !== 0) trailers = payload.toString("utf8");
    else messages.push(payload);
    at = end;
  }
  return { messages, trailers };
}
