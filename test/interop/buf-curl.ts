import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { type CallCounter, repoRoot, type ServerProcess } from "./server-process.js";
import { procedureCases, registeredServices } from "./services.js";

const buf = join(repoRoot, "node_modules/.bin/buf");

interface BufCurlResult {
  /** 0, or the RPC status code times 8 (buf's convention), or 1 for a usage error. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bufCurl(args: readonly string[], stdin?: string): Promise<BufCurlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(buf, ["curl", ...args], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("error", reject);
    child.once("close", (exitCode) => resolve({ exitCode, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

/** buf curl prints each response message as a JSON document, one after another. */
export function jsonDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") {
      if (depth++ === 0) start = i;
    } else if (char === "}" && --depth === 0) documents.push(JSON.parse(text.slice(start, i + 1)));
  }
  return documents;
}

const protocols = [
  { name: "gRPC (h2c)", flags: ["--protocol", "grpc", "--http2-prior-knowledge"], bidiFlags: [] },
  // HTTP/1.1 unless the call is bidirectional, which needs HTTP/2.
  { name: "gRPC-Web", flags: ["--protocol", "grpcweb"], bidiFlags: ["--http2-prior-knowledge"] },
  { name: "Connect", flags: ["--protocol", "connect"], bidiFlags: ["--http2-prior-knowledge"] },
] as const;

const schemas = [
  { name: "reflection", flags: [], reflected: true },
  { name: "reflection v1alpha", flags: ["--reflect-protocol", "grpc-v1alpha"], reflected: true },
  { name: "--schema proto", flags: ["--schema", "proto"], reflected: false },
] as const;

/** `buf curl` over each protocol, schema from reflection (v1 and v1alpha) or from proto/. */
export function bufCurlSuite(server: () => ServerProcess, counter: CallCounter): void {
  describe("buf curl", () => {
    for (const protocol of protocols) {
      describe(protocol.name, () => {
        test("--list-services and --list-methods show every service, through reflection", async () => {
          const services = await bufCurl([...protocol.flags, "--list-services", server().baseUrl]);
          assert.equal(services.exitCode, 0, services.stderr);
          assert.deepEqual(services.stdout.trim().split("\n").sort(), [...registeredServices].sort());
          counter.add("buf curl");

          const methods = await bufCurl([...protocol.flags, "--list-methods", server().baseUrl]);
          assert.equal(methods.exitCode, 0, methods.stderr);
          const listed = new Set(methods.stdout.trim().split("\n"));
          for (const { procedure } of procedureCases) assert.ok(listed.has(procedure), `${procedure} missing from --list-methods`);
          for (const service of registeredServices) {
            assert.ok(
              [...listed].some((method) => method.startsWith(`${service}/`)),
              `no method of ${service} listed`,
            );
          }
          counter.add("buf curl");
        });

        for (const schema of schemas) {
          test(`every procedure, schema from ${schema.name}`, async () => {
            const cases = procedureCases.filter((call) => schema.reflected || call.inProtoFolder);
            // A few at a time: each is a process of its own.
            for (let i = 0; i < cases.length; i += 4) {
              await Promise.all(
                cases.slice(i, i + 4).map(async (call) => {
                  const deadline = call.deadlineMs === undefined ? [] : ["--timeout", `${call.deadlineMs}ms`];
                  const flags = [...protocol.flags, ...(call.kind === "bidi" ? protocol.bidiFlags : []), ...schema.flags, ...deadline];
                  const data = call.requests.map((request) => JSON.stringify(request)).join("\n");
                  const result = await bufCurl([...flags, "--data", "@-", `${server().baseUrl}/${call.procedure}`], data);
                  const what = `${call.procedure} ${JSON.stringify(call.requests)}`;
                  if ("code" in call.expect) {
                    assert.equal(result.exitCode, call.expect.exitCode, `${what}: ${result.stderr}`);
                    const [error] = jsonDocuments(result.stderr) as Array<{ code: string; message: string }>;
                    assert.equal(error?.code, codeToString(call.expect.code), what);
                    assert.match(error.message, call.expect.message, what);
                  } else if (call.deadlineMs !== undefined) {
                    // A stream that never ends: the deadline ends it, after what it sent.
                    assert.equal(result.exitCode, Code.DeadlineExceeded * 8, `${what}: ${result.stderr}`);
                    call.expect.check(jsonDocuments(result.stdout), what);
                  } else {
                    assert.equal(result.exitCode, 0, `${what}: ${result.stderr}`);
                    call.expect.check(jsonDocuments(result.stdout), what);
                  }
                  counter.add("buf curl");
                }),
              );
            }
          });
        }
      });
    }
  });
}
