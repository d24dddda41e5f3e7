import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import pg from "pg";
import { redactPassword } from "../../server/config.js";
import { startTestServer, type TestServer } from "./server.js";

/**
 * The database engines the service tests run on: embedded SQLite always,
 * PostgreSQL when TEST_DATABASE_URL is set. Each run gets its own data
 * folder or its own schema, so test files and runs never collide.
 */
export interface EngineCase {
  readonly name: "SQLite" | "PostgreSQL";
  /** Environment for startTestServer (DATA_DIR or DATABASE_URL). */
  readonly env: Record<string, string>;
  /** Removes the data folder or drops the schema. */
  cleanup(): Promise<void>;
}

/** Set when PostgreSQL tests cannot run: node:test prints it as the skip reason. */
export const postgresSkipReason = process.env.TEST_DATABASE_URL
  ? undefined
  : "TEST_DATABASE_URL is not set: PostgreSQL tests skipped (SQLite tests still run)";

/** SQLite in a fresh temporary folder, like a first start on a fresh clone. */
export async function sqliteCase(): Promise<EngineCase> {
  const folder = await mkdtemp(path.join(tmpdir(), "sqlite-test-"));
  const dataDir = path.join(folder, "data");
  return { name: "SQLite", env: { DATA_DIR: dataDir }, cleanup: () => rm(folder, { recursive: true, force: true }) };
}

/**
 * A new, empty schema in TEST_DATABASE_URL's database, selected through the
 * URL's `options` (search_path), exactly as a deployment would. Throws with
 * a clear message when the variable is set but PostgreSQL cannot be used.
 */
export async function postgresCase(): Promise<EngineCase> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error("TEST_DATABASE_URL is not set");
  const schema = `test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withClient(base, (client) => client.query(`create schema ${schema}`));
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    name: "PostgreSQL",
    env: { DATABASE_URL: url.toString() },
    cleanup: () => withClient(base, (client) => client.query(`drop schema if exists ${schema} cascade`)).then(() => {}),
  };
}

/** Every engine available in this run; PostgreSQL only with TEST_DATABASE_URL. */
export async function engineCases(): Promise<EngineCase[]> {
  const cases = [await sqliteCase()];
  if (postgresSkipReason === undefined) cases.push(await postgresCase());
  return cases;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `TEST_DATABASE_URL is set (${redactPassword(url)}) but PostgreSQL cannot be reached: ${error instanceof Error ? error.message : String(error)}. ` +
        "Start PostgreSQL or unset TEST_DATABASE_URL to run only the SQLite tests.",
      { cause: error },
    );
  }
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Starts one test server per engine (see engineCases) and stops them, and
 * removes their data, after the file's tests. Without TEST_DATABASE_URL it
 * registers a skipped suite named `suiteTitle` for PostgreSQL, so the report
 * says what did not run and why.
 */
export async function serversOnEachEngine(
  suiteTitle: (engine: EngineCase["name"]) => string,
  env: Record<string, string> = {},
): Promise<Array<{ engine: EngineCase; server: TestServer }>> {
  const running: Array<{ engine: EngineCase; server: TestServer }> = [];
  for (const engine of await engineCases()) {
    running.push({ engine, server: await startTestServer({ ...engine.env, ...env }) });
  }
  after(async () => {
    for (const { engine, server } of running) {
      await server.shutdown();
      await engine.cleanup();
    }
    // Every failure a test provoked must have been a deliberate status, never a bug surfacing as INTERNAL.
    const unexpected = running.flatMap(({ server }) => server.logs.filter((record) => record.msg === "unexpected error in handler"));
    if (unexpected.length > 0) throw new Error(`the server hit unexpected errors: ${JSON.stringify(unexpected)}`);
  });
  if (postgresSkipReason !== undefined) test(suiteTitle("PostgreSQL"), { skip: postgresSkipReason }, () => {});
  return running;
}
