import { DatabaseSync, type StatementSync } from "node:sqlite";
// Not sqlite-sql.js: the writer thread imports this, and should not have to load Kysely.
import { unicodeLower } from "./unicode-lower.js";

/**
 * Opens one connection to the database file in WAL mode, with what every
 * connection needs (the `unicode_lower` function indexes use). Fails here,
 * rather than at the first call, for a damaged or read-only file.
 */
export function openConnection(file: string, options: { synchronous: "full" | "normal"; busyTimeoutMs: number }): DatabaseSync {
  const database = new DatabaseSync(file, { timeout: options.busyTimeoutMs });
  try {
    // The first statement reads the file: a damaged one, or one that is not a database, fails here.
    database.exec("pragma journal_mode = wal");
    database.exec(`pragma synchronous = ${options.synchronous}`);
    database.function("unicode_lower", { deterministic: true }, (text) => (typeof text === "string" ? unicodeLower(text) : text));
    // A schema that cannot be read, or a file that is read-only, fails here rather than at the first call.
    database.prepare("select count(*) from sqlite_schema").get();
    if (file !== ":memory:") database.exec("begin immediate; rollback");
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}

/**
 * Prepared statements by their SQL: the repositories send a few dozen
 * shapes, and preparing one costs more than running it. Bounded, since raw
 * SQL may vary without limit.
 */
export class StatementCache {
  private readonly statements = new Map<string, { statement: StatementSync; reader: boolean }>();

  constructor(
    private readonly database: DatabaseSync,
    private readonly limit = 256,
  ) {}

  get(sql: string): { statement: StatementSync; reader: boolean } {
    let entry = this.statements.get(sql);
    if (entry === undefined) {
      const statement = this.database.prepare(sql);
      // Whether the statement returns rows: a SELECT, or a write with RETURNING.
      entry = { statement, reader: statement.columns().length > 0 };
      if (this.statements.size >= this.limit) this.statements.clear();
      this.statements.set(sql, entry);
    }
    return entry;
  }
}
