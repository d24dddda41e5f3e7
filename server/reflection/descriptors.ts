import { createRegistry, type DescFile, type Registry, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * The .proto files behind the services a server answers, with everything they
 * import, as the reflection protocol hands them out: serialized
 * google.protobuf.FileDescriptorProto messages, looked up by file name or by
 * the full name of something they declare.
 */
export class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly registry: Registry;
  private readonly encoded = new Map<DescFile, Uint8Array>();

  /** `roots` are the files to serve; their imports are added, transitively. */
  constructor(roots: Iterable<DescFile>) {
    const add = (file: DescFile) => {
      if (this.files.has(file.proto.name)) return;
      this.files.set(file.proto.name, file);
      file.dependencies.forEach(add);
    };
    for (const file of roots) add(file);
    this.registry = createRegistry(...this.files.values());
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /**
   * The file declaring a message, enum, service, extension, or a member of
   * one (a method, a field, an enum value nested in a message), by its
   * fully-qualified name.
   */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    const name = symbol.startsWith(".") ? symbol.slice(1) : symbol;
    const type = this.registry.get(name);
    if (type) return type.file;
    const dot = name.lastIndexOf(".");
    const [parentName, member] = dot < 0 ? ["", name] : [name.slice(0, dot), name.slice(dot + 1)];
    const parent = this.registry.get(parentName);
    switch (parent?.kind) {
      case "service":
        return parent.methods.some((method) => method.name === member) ? parent.file : undefined;
      case "message": {
        // Enum values are named in the scope of their enum's parent: Response.SERVING.
        const declares =
          parent.fields.some((field) => field.name === member) ||
          parent.oneofs.some((oneof) => oneof.name === member) ||
          parent.nestedEnums.some((nested) => nested.values.some((value) => value.name === member));
        return declares ? parent.file : undefined;
      }
      case undefined:
        // A value of an enum declared at the top of a file, named in its package's scope.
        return [...this.files.values()].find(
          (file) =>
            file.proto.package === parentName && file.enums.some((declared) => declared.values.some((value) => value.name === member)),
        );
      default:
        return undefined;
    }
  }

  /** The file declaring extension `number` of message `extendee`; undefined if either is unknown. */
  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    const message = this.registry.getMessage(extendee);
    return message && this.registry.getExtensionFor(message, number)?.file;
  }

  /** The extension numbers of a message known here, or undefined for an unknown message. */
  extensionNumbers(extendee: string): number[] | undefined {
    if (!this.registry.getMessage(extendee)) return undefined;
    const numbers: number[] = [];
    for (const type of this.registry) {
      if (type.kind === "extension" && type.extendee.typeName === extendee) numbers.push(type.number);
    }
    return numbers.sort((a, b) => a - b);
  }

  /** `file` first, then every file it imports, directly or not. */
  withDependencies(file: DescFile): DescFile[] {
    const ordered = new Set<DescFile>();
    const visit = (current: DescFile) => {
      if (ordered.has(current)) return;
      ordered.add(current);
      current.dependencies.forEach(visit);
    };
    visit(file);
    return [...ordered];
  }

  /** The file as a serialized google.protobuf.FileDescriptorProto. */
  encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }
}
