import pg from "pg";
import { type EngineCase, postgresCase } from "./database.js";
import { freePorts } from "./nginx.js";
import { type ServerProcess, spawnServer } from "./process.js";

/** One server process on a fixed port, which can be stopped and started again on it. */
export interface Replica {
  readonly port: number;
  readonly baseUrl: string;
  /** The process running now (a new one after each restart). */
  readonly process: ServerProcess;
  /** Every process this replica ran, oldest first. */
  readonly history: readonly ServerProcess[];
  /** SIGTERM, wait for the graceful exit (resolves with its code), then start again on the same port. */
  restart(): Promise<number | null>;
  /** SIGKILL: the process dies at once, mid-call. */
  kill(): Promise<void>;
  /** Starts a process again after `kill`. */
  start(): Promise<void>;
}

export interface ReplicaSet {
  readonly database: EngineCase;
  readonly replicas: readonly Replica[];
  /** Runs SQL on the replicas' schema, as an operator would to check what was stored. */
  query<Row>(sql: string): Promise<Row[]>;
  stop(): Promise<void>;
}

/** `count` server processes on one new PostgreSQL schema, each on its own fixed port, serving. */
export async function startReplicas(count: number, env: Record<string, string> = {}): Promise<ReplicaSet> {
  const database = await postgresCase();
  const replicas: Replica[] = [];
  for (const port of await freePorts(count)) {
    const history: ServerProcess[] = [];
    const launch = async () => {
      const process = spawnServer({ ...database.env, PORT: String(port), ...env });
      history.push(process);
      await process.serving();
    };
    const current = () => history.at(-1) as ServerProcess;
    replicas.push({
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      get process() {
        return current();
      },
      history,
      async restart() {
        const code = await current().stop();
        await launch();
        return code;
      },
      async kill() {
        current().child.kill("SIGKILL");
        await current().exited;
      },
      start: launch,
    });
  }
  // Started one after the other: the first runs the migrations.
  for (const replica of replicas) await replica.start();
  return {
    database,
    replicas,
    async query<Row>(sql: string) {
      const client = new pg.Client({ connectionString: database.env.DATABASE_URL });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Row[];
      } finally {
        await client.end();
      }
    },
    async stop() {
      await Promise.all(replicas.map((replica) => replica.process.stop()));
      await database.cleanup();
    },
  };
}
