import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** deploy/nginx/routes.conf: the rules the production config includes, used here as they are. */
const routesFile = fileURLToPath(new URL("../../../deploy/nginx/routes.conf", import.meta.url));

/** The nginx binary: on PATH, or where Debian puts it (/usr/sbin is not on every user's PATH). */
export const nginxBinary = ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx"].find(
  (candidate) => spawnSync(candidate, ["-v"], { stdio: "ignore" }).status === 0,
);

/** Set when the nginx tests cannot run: node:test prints it as the skip reason. */
export const nginxSkipReason =
  nginxBinary === undefined ? "nginx is not installed (apt-get install nginx): the tests behind nginx skipped" : undefined;

export interface Nginx {
  /** HTTP/1.1 clients (Connect, gRPC-Web, GET): "http://127.0.0.1:PORT". */
  readonly http1Url: string;
  /** Prior-knowledge HTTP/2 clients (gRPC, Connect over HTTP/2): "http://127.0.0.1:PORT". */
  readonly h2cUrl: string;
  /** What nginx logged so far (warnings and errors, e.g. an upstream that refused). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** `count` different ports nobody listens on right now (held together while picked, so never twice the same). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  for (const server of servers) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  return ports;
}

/**
 * Runs nginx as this user's own process (temporary prefix, no daemon) in
 * front of replicas listening on 127.0.0.1:`upstreamPorts`, with
 * deploy/nginx/routes.conf as the production config has it. The top level
 * differs from deploy/nginx/nginx.conf only in paths, ports and the upstream
 * addresses.
 */
export async function startNginx(upstreamPorts: readonly number[]): Promise<Nginx> {
  if (nginxBinary === undefined) throw new Error("nginx is not installed");
  const prefix = await mkdtemp(path.join(tmpdir(), "nginx-test-"));
  await mkdir(path.join(prefix, "logs"));
  const [http1Port = 0, h2cPort = 0] = await freePorts(2);
  const errorLog = path.join(prefix, "logs", "error.log");
  const temp = (name: string) => path.join(prefix, name);
  const conf = `
worker_processes 1;
error_log ${errorLog} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${temp("body")};
  proxy_temp_path ${temp("proxy")};
  fastcgi_temp_path ${temp("fastcgi")};
  uwsgi_temp_path ${temp("uwsgi")};
  scgi_temp_path ${temp("scgi")};
${["grpc_replicas", "http_replicas"].map((name) => upstream(name, upstreamPorts)).join("")}
  map $http_content_type $grpc_call {
    default 0;
    "~^application/grpc($|\\+|;)" 1;
  }
  server { listen 127.0.0.1:${http1Port}; include ${routesFile}; }
  server { listen 127.0.0.1:${h2cPort} http2; include ${routesFile}; }
}
`;
  const confFile = path.join(prefix, "nginx.conf");
  await writeFile(confFile, conf);
  const pidFile = path.join(prefix, "nginx.pid");
  const child: ChildProcess = spawn(nginxBinary, ["-p", prefix, "-e", errorLog, "-c", confFile, "-g", `daemon off; pid ${pidFile};`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const readLog = async () => (existsSync(errorLog) ? readFile(errorLog, "utf8") : "");
  // Up once both ports accept.
  for (const port of [http1Port, h2cPort]) {
    for (let waited = 0; ; waited += 50) {
      if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${await readLog()}`);
      if (await accepts(port)) break;
      if (waited > 10_000) throw new Error(`nginx did not listen on ${port}: ${stderr}${await readLog()}`);
      await sleep(50);
    }
  }
  return {
    http1Url: `http://127.0.0.1:${http1Port}`,
    h2cUrl: `http://127.0.0.1:${h2cPort}`,
    errorLog: readLog,
    async stop() {
      // SIGQUIT would wait for watches; SIGTERM is nginx's fast shutdown.
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

function upstream(name: string, ports: readonly number[]): string {
  const servers = ports.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;\n`).join("");
  return `  upstream ${name} {\n${servers}    keepalive 32;\n    keepalive_timeout 60s;\n  }\n`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
