import { sql } from "kysely";
import type { EngineSql, MovieTuple, NewOrderRow } from "./engine.js";

/**
 * PostgreSQL's pieces. lower() follows the database's character type (the
 * same Unicode case mapping as SQLite's, sqlite-sql.ts, in a UTF-8
 * database); the comparison is in the C collation, code point by code
 * point, whatever the server's locale (see the movies_listing index).
 */
export const postgresSql: EngineSql = {
  titleKey: sql<string>`lower(title) collate "C"`,
  idKey: sql<string>`id collate "C"`,
  titleKeyOf: (title) => sql<string>`lower(${title}) collate "C"`,
  contains: (column, text) => sql<boolean>`strpos(lower(${sql.ref(column)}), lower(${text})) > 0`,
  // The aggregate takes its rows in the subquery's order, as PostgreSQL's
  // documentation says it does when the outer query does nothing else.
  batchAsJson: sql`json_agg(json_build_array(batch.id, batch.title, batch.director, batch.rating))`,
  readBatch: (value) => (value as MovieTuple[] | null) ?? [],
  // node-postgres sends an array as one text[] parameter.
  anyOfIds: { condition: sql<boolean>`id = any(${[]})`, parameter: (ids) => ids },
  // int8, which node-postgres reads as text.
  readVersion: (value) => String(value),
  rowLocks: true,
  dateValue: (date) => date.toString(),
  nowAsDate: sql`now()::timestamptz(3)`,
  now: sql`now()`,
  // Whole seconds and the microseconds within them are extracted apart, so
  // the sum is exact whether extract() gives numeric (PostgreSQL 14 and
  // later) or double; node-postgres would make a Date, which keeps milliseconds.
  dateMicros: sql<string>`(extract(epoch from date_trunc('second', date))::int8 * 1000000 + extract(microseconds from date)::int8 % 1000000)::text`,
  timeValue: (time) => time,
  readTime: (value) => value as Date,
  readBoolean: (value) => value as boolean,
  // The JSON the repository would make (ChangePayload), made where the row
  // is written, so the write and its notification are one statement and
  // need no transaction around them. Milliseconds are floored like
  // Instant.epochMillis and like the Dates node-postgres makes.
  orderChangeNotice: {
    in: "with",
    notice: (channel, type) =>
      sql`pg_notify(${channel}, json_build_object(
      'type', ${type}::text,
      'order', json_build_object(
        'id', id, 'owner', owner, 'name', name, 'completed', completed, 'version', version,
        'date', floor(date_micros::numeric / 1000)::int8, 'dateMicros', date_micros,
        'createTime', ${epochMillis("create_time")}, 'updateTime', ${epochMillis("update_time")}
      )
    )::text)`,
  },
  // node-postgres sends each array as one parameter; unnest takes them row by row.
  newOrderRows: ({ id, owner, name, completed, date, key, fingerprint }) =>
    sql<NewOrderRow>`unnest(${id}::uuid[], ${owner}::text[], ${name}::text[], ${completed}::boolean[], ${date}::timestamptz[], ${key}::text[], ${fingerprint}::text[])`.as<"input">(
      sql`input(id, owner, name, completed, date, key, fingerprint)`,
    ),
};

function epochMillis(column: "create_time" | "update_time") {
  // Exact whether extract() gives numeric or (before PostgreSQL 14) double.
  return sql`round(extract(epoch from date_trunc('milliseconds', ${sql.ref(column)})) * 1000)::int8`;
}
