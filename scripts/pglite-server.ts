/**
 * A loopback Postgres-wire server with pgvector, from npm alone: PGlite (Postgres compiled to WASM) with the pgvector
 * extension, served by @electric-sql/pglite-socket's PGLiteSocketServer. For tests and local development of the
 * pgvector backend; not a production database (one backend session shared by all connections: see docs/pglite-notes.md).
 *
 * The extension is loaded into PGlite but not created: the application runs `CREATE EXTENSION IF NOT EXISTS vector`.
 *
 *   npm run db:dev                       # port 5433, data in ./.pgdata
 *   npm run db:dev -- --port 0 --data /tmp/kb-pg
 *   npm run db:dev -- --memory           # in-memory, nothing persisted
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface PgliteServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable`, accepted by the `pg` driver. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface PgliteServerOptions {
  /** Directory for a persistent database; in-memory when omitted. */
  dataDir?: string;
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  host?: string;
  /** Concurrent client connections the multiplexer accepts (default 20); more are refused with "Too many connections". */
  maxConnections?: number;
}

export async function startPgliteServer(opts: PgliteServerOptions = {}): Promise<PgliteServer> {
  const host = opts.host ?? "127.0.0.1";
  const db = await PGlite.create({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    extensions: { vector },
  });
  const server = new PGLiteSocketServer({ db, host, port: opts.port ?? 0, maxConnections: opts.maxConnections ?? 20 });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // getServerConn() is "host:port"; the real port is known once listening (port 0 = chosen by the OS).
  const port = Number(server.getServerConn().split(":").pop());
  if (!Number.isInteger(port) || port <= 0) {
    await server.stop();
    await db.close();
    throw new Error(`pglite server: could not read the listening port from ${server.getServerConn()}`);
  }
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${urlHost}:${port}/postgres?sslmode=disable`,
    port,
    stop() {
      stopping ??= (async () => {
        // Closes every client socket (clients see "Connection terminated unexpectedly"), then the listener, then the
        // database (which flushes a persistent dataDir).
        await server.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}

function parseArgs(argv: string[]): { port: number; dataDir?: string; host: string; maxConnections: number } {
  let port = 5433;
  let dataDir: string | undefined = "./.pgdata";
  let host = "127.0.0.1";
  let maxConnections = 20;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--port":
      case "-p":
        port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number`);
        break;
      case "--data":
      case "-d":
        dataDir = value();
        break;
      case "--memory":
        dataDir = undefined;
        break;
      case "--host":
        host = value();
        break;
      case "--max-connections":
      case "-m":
        maxConnections = Number(value());
        if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new Error(`--max-connections: a positive integer`);
        break;
      case "--help":
      case "-h":
        console.log("usage: npm run db:dev -- [--port 5433] [--data ./.pgdata | --memory] [--host 127.0.0.1] [--max-connections 20]");
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg} (try --help)`);
    }
  }
  return { port, host, maxConnections, ...(dataDir ? { dataDir: resolve(dataDir) } : {}) };
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`db:dev: ${(err as Error).message}`);
    process.exit(2);
  }
  // A parent that goes away (closed pipe) must not crash the server with EPIPE while it shuts down.
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  const server = await startPgliteServer(args);
  console.log(`DATABASE_URL=${server.url}`);
  const where = args.dataDir ? `data in ${args.dataDir}` : "in memory";
  console.log(`Try: VECTOR_STORE=pgvector DATABASE_URL='${server.url}' npm run ingest   (PGlite + pgvector, ${where}; Ctrl-C stops it)`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`db:dev: ${signal}, stopping`);
    server.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(`db:dev: error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`db:dev: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}
