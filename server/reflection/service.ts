import type { DescFile, DescService } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { type ServiceEntry, serviceEntry } from "../services/registry.js";
import { DescriptorIndex } from "./descriptors.js";

/** What v1 and v1alpha requests have in common (the two protocols are the same messages). */
export interface ReflectionRequest {
  readonly host: string;
  readonly messageRequest:
    | { readonly case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; readonly value: string }
    | { readonly case: "fileContainingExtension"; readonly value: { readonly containingType: string; readonly extensionNumber: number } }
    | { readonly case: undefined; readonly value?: undefined };
}

/** The answer to one request, valid as both a v1 and a v1alpha `message_response`. */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Answers the requests of one reflection stream. Each file descriptor is sent
 * once per stream, as the protocol allows: a client asking for a second file
 * gets only the dependencies it has not seen yet.
 */
export class ReflectionSession {
  private readonly sent = new Set<DescFile>();

  constructor(
    private readonly index: DescriptorIndex,
    private readonly services: readonly DescService[],
  ) {}

  answer({ messageRequest: request }: ReflectionRequest): ReflectionAnswer {
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.services.map((service) => ({ name: service.typeName })) } };
      case "fileByFilename":
        return this.files(this.index.fileByName(request.value), `file "${request.value}"`);
      case "fileContainingSymbol":
        return this.files(this.index.fileContainingSymbol(request.value), `symbol "${request.value}"`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = request.value;
        return this.files(
          this.index.fileContainingExtension(containingType, extensionNumber),
          `extension ${extensionNumber} of "${containingType}"`,
        );
      }
      case "allExtensionNumbersOfType": {
        const numbers = this.index.extensionNumbers(request.value);
        if (!numbers) return notFound(`message type "${request.value}"`);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: request.value, extensionNumber: numbers } };
      }
      default:
        return {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "the request asks for nothing: set one of the message_request fields" },
        };
    }
  }

  private files(file: DescFile | undefined, what: string): ReflectionAnswer {
    if (!file) return notFound(what);
    // The file asked for is always sent, even if sent before; its imports only once.
    const unsent = this.index.withDependencies(file).filter((candidate) => candidate === file || !this.sent.has(candidate));
    for (const sent of unsent) this.sent.add(sent);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: unsent.map((one) => this.index.encode(one)) } };
  }
}

function notFound(what: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}

/**
 * grpc.reflection.v1 and v1alpha (older tools such as grpcurl and Postman
 * still ask for v1alpha) describing `services()`: every service the server
 * answers, these two included. `extraFiles` are served too, though they hold
 * no service: for example the error detail types, so tools can decode details.
 */
export function reflectionServices(services: () => readonly DescService[], extraFiles: readonly DescFile[] = []): ServiceEntry[] {
  // Built on first use, when the list of services is complete.
  let catalogue: { index: DescriptorIndex; services: DescService[] } | undefined;
  const session = () => {
    catalogue ??= catalogueOf(services(), extraFiles);
    return new ReflectionSession(catalogue.index, catalogue.services);
  };
  async function* serverReflectionInfo<R extends ReflectionRequest>(requests: AsyncIterable<R>) {
    const answers = session();
    for await (const request of requests) {
      yield { validHost: request.host, originalRequest: request, messageResponse: answers.answer(request) };
    }
  }
  return [serviceEntry(ServerReflectionV1, { serverReflectionInfo }), serviceEntry(ServerReflectionV1Alpha, { serverReflectionInfo })];
}

function catalogueOf(registered: readonly DescService[], extraFiles: readonly DescFile[]) {
  const services = [...new Set(registered)];
  const index = new DescriptorIndex([...services.map((service) => service.file), ...extraFiles]);
  return { index, services };
}
