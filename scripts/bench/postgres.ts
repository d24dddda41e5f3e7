import { randomBytes } from "node:crypto";
import pg from "pg";

/** Where the WORKERS comparison finds PostgreSQL: a local server's default database and superuser, unless told otherwise. */
export const defaultBenchDatabaseUrl = "postgres://postgres@127.0.0.1:5432/postgres";

export function benchDatabaseUrl(env: Readonly<Record<string, string | undefined>>): string {
  return env.BENCH_DATABASE_URL || env.TEST_DATABASE_URL || defaultBenchDatabaseUrl;
}

/** The URL with any password masked, fit for output. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

export interface BenchSchema {
  /** DATABASE_URL for the server: the base URL with search_path set to the new schema. */
  readonly url: string;
  readonly schema: string;
  drop(): Promise<void>;
}

/** A new, empty schema in `base`'s database for the servers to migrate and use; throws when PostgreSQL cannot be used. */
export async function createBenchSchema(base: string): Promise<BenchSchema> {
  const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  await withClient(base, (client) => client.query(`create schema ${schema}`));
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    url: url.toString(),
    schema,
    drop: () => withClient(base, (client) => client.query(`drop schema if exists ${schema} cascade`)).then(() => {}),
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
