import { sql } from "kysely";
import type { EngineSql, MovieTuple } from "./engine.js";

export { unicodeLower } from "./unicode-lower.js";

/**
 * SQLite's pieces. Times are integers, microseconds since the epoch (an
 * order's date to the microsecond, create and update times to the
 * millisecond, as PostgreSQL's timestamptz(6) and (3) keep them); booleans
 * are 0 and 1. Text compares code point by code point (SQLite's BINARY
 * collation on UTF-8), like PostgreSQL's "C"; SQLite's own lower() knows
 * ASCII only, so `unicode_lower` (registered by sqlite-connection.ts, see
 * unicode-lower.ts) does what PostgreSQL's does in a UTF-8 database.
 */
const shared: EngineSql = {
  titleKey: sql<string>`unicode_lower(title)`,
  idKey: sql<string>`id`,
  titleKeyOf: (title) => sql<string>`unicode_lower(${title})`,
  contains: (column, text) => sql<boolean>`instr(unicode_lower(${sql.ref(column)}), unicode_lower(${text})) > 0`,
  // The aggregate's own ORDER BY (SQLite 3.44 and later) rather than trust in the subquery's.
  batchAsJson: sql`json_group_array(json_array(batch.id, batch.title, batch.director, batch.rating) order by unicode_lower(batch.title), batch.id)`,
  readBatch: (value) => JSON.parse(value as string) as MovieTuple[],
  // A JSON array, the one kind of list SQLite takes as a parameter.
  anyOfIds: { condition: sql<boolean>`id in (select value from json_each(${"[]"}))`, parameter: (ids) => JSON.stringify(ids) },
  readVersion: (value) => String(value),
  rowLocks: false,
  dateValue: (date) => date.epochMicros,
  // 'now' is the same for every use within one statement.
  nowAsDate: sql`(cast(round(unixepoch('subsec') * 1000) as integer) * 1000)`,
  now: sql`(cast(round(unixepoch('subsec') * 1000) as integer) * 1000)`,
  // Read as text: a date in year 9999 needs more bits than a JavaScript number holds exactly.
  dateMicros: sql<string>`cast(date as text)`,
  timeValue: (time) => time.getTime() * 1000,
  readTime: (value) => new Date(Number(value) / 1000),
  readBoolean: (value) => value === 1 || value === 1n,
};

/**
 * For a file: the writer thread's notify() (sqlite-writer-worker.ts) sends
 * an order's change with the statement that writes it. The JSON is the
 * repository's (ChangePayload); milliseconds are floored like
 * Instant.epochMillis, and create and update times are whole milliseconds.
 */
export const sqliteSql: EngineSql = {
  ...shared,
  orderChangeNotice: {
    in: "returning",
    notice: (channel, type) =>
      sql`notify(${channel}, json_object(
        'type', ${type},
        'order', json_object(
          'id', id, 'owner', owner, 'name', name, 'completed', json(iif(completed, 'true', 'false')), 'version', version,
          'date', (date - (date % 1000 + 1000) % 1000) / 1000, 'dateMicros', cast(date as text),
          'createTime', create_time / 1000, 'updateTime', update_time / 1000
        )
      ))`,
  },
};

/**
 * For memory://, whose one connection is on the event loop and has no
 * notify(): a write publishes its change in a transaction (engine.publish).
 */
export const inMemorySqliteSql: EngineSql = shared;
