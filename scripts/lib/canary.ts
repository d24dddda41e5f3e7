import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";

let canaries = 0;

export interface NamedTransport {
  readonly name: string;
  readonly transport: Transport;
}

/**
 * A transport for every protocol and HTTP version the server serves, made
 * with connect-node's own clients. `close` ends their HTTP/2 sessions.
 */
export function everyProtocol(baseUrl: string, timeoutMs?: number): { transports: NamedTransport[]; close(): void } {
  const sessions: Http2SessionManager[] = [];
  const h2 = () => {
    const manager = new Http2SessionManager(baseUrl);
    sessions.push(manager);
    return manager;
  };
  const common = { baseUrl, defaultTimeoutMs: timeoutMs };
  const transports: NamedTransport[] = [
    { name: "gRPC h2c", transport: createGrpcTransport({ ...common, sessionManager: h2() }) },
    { name: "gRPC-Web HTTP/1.1", transport: createGrpcWebTransport({ ...common, httpVersion: "1.1" }) },
    { name: "gRPC-Web HTTP/2", transport: createGrpcWebTransport({ ...common, httpVersion: "2", sessionManager: h2() }) },
    { name: "Connect JSON HTTP/1.1", transport: createConnectTransport({ ...common, httpVersion: "1.1" }) },
    {
      name: "Connect binary HTTP/2",
      transport: createConnectTransport({ ...common, httpVersion: "2", useBinaryFormat: true, sessionManager: h2() }),
    },
    { name: "Connect GET HTTP/1.1", transport: createConnectTransport({ ...common, httpVersion: "1.1", useHttpGet: true }) },
  ];
  return {
    transports,
    close() {
      for (const session of sessions) session.abort();
    },
  };
}

/** Normal calls over every protocol, with exact answers expected. Returns what went wrong (empty: all good). */
export async function canary(baseUrl: string, timeoutMs = 10_000): Promise<string[]> {
  const { transports, close } = everyProtocol(baseUrl, timeoutMs);
  const problems: string[] = [];
  try {
    for (const { name, transport } of transports) {
      try {
        const hello = await createClient(GreeterService, transport).sayHello({ name: "Ada" });
        if (hello.message !== "Hello, Ada!") problems.push(`${name}: SayHello answered ${JSON.stringify(hello.message)}`);
        // A movie of its own: the fuzzer may have deleted the seeded ones.
        const movies = createClient(MovieService, transport);
        const id = `canary-${process.pid}-${++canaries}`;
        await movies.createMovie({ id, title: "Canary", director: "Nobody", rating: 5 });
        const movie = await movies.getMovie({ id });
        if (movie.movie?.title !== "Canary") problems.push(`${name}: GetMovie answered ${JSON.stringify(movie.movie?.title)}`);
        await movies.deleteMovie({ id });
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
      }
    }
    problems.push(...(await restCanary(baseUrl, timeoutMs)));
  } finally {
    close();
  }
  return problems;
}

/** The same calls as REST routes, with fetch (HTTP/1.1). */
async function restCanary(baseUrl: string, timeoutMs: number): Promise<string[]> {
  const call = async (path: string, init: RequestInit = {}): Promise<unknown> => {
    const response = await fetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  };
  try {
    const hello = (await call("/v1/greeter:sayHello?name=Ada")) as { message?: string };
    if (hello.message !== "Hello, Ada!") return [`REST: sayHello answered ${JSON.stringify(hello.message)}`];
    const id = `canary-rest-${process.pid}-${++canaries}`;
    const json = { "content-type": "application/json" };
    await call("/v1/movies", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ id, title: "Canary", director: "Nobody", rating: 5 }),
    });
    const movie = (await call(`/v1/movies/${id}`)) as { title?: string };
    if (movie.title !== "Canary") return [`REST: GET /v1/movies/{id} answered ${JSON.stringify(movie.title)}`];
    await call(`/v1/movies/${id}`, { method: "DELETE" });
    return [];
  } catch (error) {
    return [`REST: ${(error as Error).message}`];
  }
}
