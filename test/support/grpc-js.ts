import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** A message as @grpc/proto-loader decodes it: a plain object. */
export type Message = Record<string, unknown>;

/** The contracts, read at run time from the .proto files, as any grpc-js user would. */
export const protoRoot = fileURLToPath(new URL("../../../proto/", import.meta.url));
/** The contracts import buf/validate/validate.proto for their rules: a grpc-js user puts it on the include path too. */
const protovalidateRoot = fileURLToPath(new URL("../../../third_party/protovalidate/", import.meta.url));
/** And google/api/annotations.proto for their REST routes. */
const googleapisRoot = fileURLToPath(new URL("../../../third_party/googleapis/", import.meta.url));

export function loadProtos(files: string[]): grpc.GrpcObject {
  const definition = protoLoader.loadSync(files, {
    includeDirs: [protoRoot, protovalidateRoot, googleapisRoot],
    defaults: true,
    longs: Number,
  });
  return grpc.loadPackageDefinition(definition);
}

/** Looks up a service such as "greeter.v1.GreeterService" in what loadPackageDefinition returned. */
export function serviceConstructor(root: grpc.GrpcObject, typeName: string): grpc.ServiceClientConstructor {
  let found: unknown = root;
  for (const part of typeName.split(".")) found = (found as grpc.GrpcObject)[part];
  if (typeof found !== "function" || !("service" in found)) throw new Error(`no service ${typeName} in the loaded protos`);
  return found as grpc.ServiceClientConstructor;
}

/**
 * A promise-based face on a grpc-js client. It calls through the same
 * make*Request methods the dynamic stubs use, with the serializers
 * proto-loader built from the .proto files, so nothing here is ours.
 */
export class GrpcJsClient {
  readonly client: grpc.Client;
  private readonly service: grpc.ServiceDefinition;

  constructor(
    Client: grpc.ServiceClientConstructor,
    address: string,
    credentials = grpc.credentials.createInsecure(),
    options: grpc.ChannelOptions = {},
  ) {
    this.client = new Client(address, credentials, options);
    this.service = Client.service;
  }

  private method(name: string): grpc.MethodDefinition<Message, Message> {
    const method = this.service[name];
    if (method === undefined) throw new Error(`no method ${name}`);
    return method as grpc.MethodDefinition<Message, Message>;
  }

  unary(name: string, request: Message, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<Message> {
    const method = this.method(name);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        options,
        (error, response) => (error ? reject(error) : resolve(response ?? {})),
      );
    });
  }

  serverStream(name: string, request: Message, options: grpc.CallOptions = {}): grpc.ClientReadableStream<Message> {
    const method = this.method(name);
    return this.client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      options,
    );
  }

  clientStream(name: string, requests: Message[]): Promise<Message> {
    const method = this.method(name);
    return new Promise((resolve, reject) => {
      const call = this.client.makeClientStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        (error, response) => (error ? reject(error) : resolve(response ?? {})),
      );
      for (const request of requests) call.write(request);
      call.end();
    });
  }

  bidiStream(name: string): grpc.ClientDuplexStream<Message, Message> {
    const method = this.method(name);
    return this.client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
  }

  close(): void {
    this.client.close();
  }
}

/** Awaits a grpc-js call that must fail and returns its ServiceError. */
export async function grpcFailure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  const error = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (reason: unknown) => reason,
  );
  if (!(error instanceof Error) || !("code" in error)) throw error;
  return error as grpc.ServiceError;
}
