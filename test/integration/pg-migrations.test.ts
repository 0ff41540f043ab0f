import { createServer } from "node:net";
import { inspect } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type PgliteServer, startPgliteServer } from "../../scripts/pglite-server.ts";
import { loadConfig, type PgStoreConfig } from "../../src/config/config.ts";
import { AppError } from "../../src/errors/app-error.ts";
import { MIGRATIONS, migrate, SCHEMA_VERSION } from "../../src/store/pg/migrations.ts";
import { PgIndexStore } from "../../src/store/pg/pg-index-store.ts";

/**
 * Schema migrations and the connect-time failures that need a person, against PGlite over the Postgres wire protocol:
 * one server with pgvector (its tables and the extension dropped before each test: a fresh database) and one without
 * the extension. PGlite's socket server accepts any password (it never asks for one), so the URLs carry a password
 * that must never show up in an error.
 */
const PASSWORD = "s3cret-pw";
let withVector: PgliteServer;
let plain: { db: PGlite; server: PGLiteSocketServer; port: number } | undefined;
let admin: pg.Pool;
const opened: PgIndexStore[] = [];

const urlFor = (port: number) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;

function storeConfig(url: string): { pg: PgStoreConfig; hnsw: ReturnType<typeof loadConfig>["hnsw"] } {
  const config = loadConfig({ VECTOR_STORE: "pgvector", DATABASE_URL: url, PG_POOL_MAX: "3", PG_STATEMENT_TIMEOUT_MS: "5000", LOG_LEVEL: "silent" });
  if (config.vectorStore.kind !== "pgvector") throw new Error("expected a pgvector config");
  return { pg: config.vectorStore, hnsw: config.hnsw };
}

async function connect(url = urlFor(withVector.port)): Promise<PgIndexStore> {
  const c = storeConfig(url);
  const store = await PgIndexStore.connect(c.pg, c.hnsw);
  opened.push(store);
  return store;
}

async function connectError(url: string): Promise<AppError> {
  try {
    await connect(url);
  } catch (err) {
    return err as AppError;
  }
  throw new Error("expected connect to fail");
}

/** Neither the URL nor its password, in the message, String(err) or the full inspection (stack, cause chain). */
function expectNoSecret(err: unknown, url: string): void {
  for (const text of [(err as Error).message, String(err), inspect(err, { depth: 5 }), JSON.stringify(err)]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(url);
  }
}

async function tables(): Promise<string[]> {
  const { rows } = await admin.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kb\\_%' ORDER BY tablename",
  );
  return rows.map((r) => r.tablename);
}

beforeAll(async () => {
  // Both databases start at once: each takes seconds (initdb in WASM).
  [withVector, plain] = await Promise.all([
    startPgliteServer(),
    (async () => {
      const db = await PGlite.create(); // no `extensions: { vector }`: CREATE EXTENSION vector fails as on a server without pgvector
      const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 10 });
      await server.start();
      return { db, server, port: Number(server.getServerConn().split(":").pop()) };
    })(),
  ]);
  admin = new pg.Pool({ connectionString: withVector.url, max: 2 });
}, 120_000);

afterAll(async () => {
  for (const s of opened.splice(0)) await s.close();
  await admin?.end();
  await withVector?.stop();
  await plain?.server.stop();
  await plain?.db.close();
});

beforeEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  const { rows } = await admin.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
  for (const r of rows) await admin.query(`DROP TABLE IF EXISTS "${r.tablename}" CASCADE`);
  await admin.query("DROP EXTENSION IF EXISTS vector CASCADE");
});

describe("pgvector schema migrations (PGlite)", () => {
  it("a fresh database gets versions 1..N, the vector extension and the tables; connecting again applies nothing", async () => {
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    expect(await tables()).toEqual([]);

    const store = await connect();
    const { rows: versions } = await admin.query<{ version: number; name: string; applied_at: Date }>(
      "SELECT version, name, applied_at FROM kb_schema_migrations ORDER BY version",
    );
    expect(versions.map((r) => [r.version, r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    expect(await tables()).toEqual(["kb_builds", "kb_rebuild_lock", "kb_schema_migrations", "kb_state"]);
    const { rows: ext } = await admin.query("SELECT extname FROM pg_extension WHERE extname = 'vector'");
    expect(ext).toHaveLength(1);
    expect((await admin.query("SELECT id, build_id FROM kb_state")).rows).toEqual([{ id: 1, build_id: null }]);
    expect(await store.hasIndex()).toBe(false);
    expect(await store.publishedVersion()).toBeUndefined();

    // Again: through a second store, and through migrate() itself, which says what it applied.
    await connect();
    const pool = new pg.Pool({ connectionString: urlFor(withVector.port), max: 2 });
    try {
      expect(await migrate(pool)).toEqual([]);
    } finally {
      await pool.end();
    }
    const { rows: after } = await admin.query<{ version: number; name: string; applied_at: Date }>(
      "SELECT version, name, applied_at FROM kb_schema_migrations ORDER BY version",
    );
    expect(after).toEqual(versions);
    expect((await admin.query("SELECT id, build_id FROM kb_state")).rows).toEqual([{ id: 1, build_id: null }]);
  });

  it("stores connecting at once to a fresh database all succeed, and every step is applied exactly once", async () => {
    const stores = await Promise.all([connect(), connect(), connect()]);
    expect(stores).toHaveLength(3);
    const { rows } = await admin.query<{ version: number; n: string }>(
      "SELECT version, count(*) AS n FROM kb_schema_migrations GROUP BY version ORDER BY version",
    );
    expect(rows.map((r) => [r.version, Number(r.n)])).toEqual(MIGRATIONS.map((m) => [m.version, 1]));
    for (const s of stores) expect(await s.hasIndex()).toBe(false);
    expect((await admin.query("SELECT count(*)::int AS n FROM kb_state")).rows).toEqual([{ n: 1 }]);
  });

  it("a schema written by a newer program (version 999) is refused with DB_SCHEMA_TOO_NEW, and left as it is", async () => {
    await admin.query("CREATE TABLE kb_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    await admin.query("INSERT INTO kb_schema_migrations (version, name) VALUES (999, 'from the future')");
    const url = urlFor(withVector.port);
    const err = await connectError(url);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "DB_SCHEMA_TOO_NEW", status: 503, expose: true });
    expect(err.message).toContain("999");
    expect(err.message).toContain(`knows ${SCHEMA_VERSION}`);
    expect(err.message).toMatch(/newer version of this program/);
    expect(err.message).toMatch(/Upgrade this program|another database/);
    expectNoSecret(err, url);
    // Nothing applied over it.
    expect(await tables()).toEqual(["kb_schema_migrations"]);
    expect((await admin.query("SELECT version FROM kb_schema_migrations")).rows).toEqual([{ version: 999 }]);
  });

  it("a server without pgvector fails with EXTENSION_MISSING saying how to install it, without the URL or its password", async () => {
    const url = urlFor(plain!.port);
    const err = await connectError(url);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "EXTENSION_MISSING", status: 503, expose: true });
    expect(err.message).toMatch(/pgvector/);
    expect(err.message).toMatch(/Install pgvector/);
    expect(err.message).toMatch(/postgresql-<version>-pgvector|github\.com\/pgvector\/pgvector/);
    expect(err.message).toContain("DATABASE_URL");
    expectNoSecret(err, url);
    // Nothing was created in that database.
    const { rows } = await plain!.db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE tablename LIKE 'kb\\_%'");
    expect(rows).toEqual([]);
  });

  it("a database that cannot be reached: connect returns (the store retries), its calls fail DB_UNAVAILABLE without the URL or its password", async () => {
    // A port nobody listens on: taken from the OS, then released.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const url = urlFor(port);
    const store = await connect(url);
    let err: unknown;
    try {
      await store.hasIndex();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "DB_UNAVAILABLE", status: 503 });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expectNoSecret(err, url);
  });
});
