import type pg from "pg";
import { AppError } from "../../errors/app-error.ts";
import { rethrowDbError, sqlState } from "./pg-errors.ts";

/**
 * The schema, as numbered steps applied once each and recorded in kb_schema_migrations. Every server and CLI run
 * applies what is missing at connect time, one process at a time (a transaction-scoped advisory lock), all pending
 * steps in one transaction. Steps are only ever appended; a database migrated by a newer version is refused, not guessed at.
 *
 * Tables:
 *   kb_state            one row: the published build (switched in one transaction, with NOTIFY kb_index)
 *   kb_builds           one row per build: manifest, local-embedder state, slot count, its chunk table, status
 *   kb_chunks_<build>   per build (created at build time): label, chunk JSON, lexical tokens, embedding + HNSW index
 *   kb_rebuild_lock     the lease of the build in progress (who, since when, last heartbeat)
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "published state, builds, rebuild lease",
    sql: `
      CREATE TABLE kb_builds (
        build_id     text PRIMARY KEY,
        table_name   text NOT NULL UNIQUE,
        status       text NOT NULL CHECK (status IN ('building', 'published')),
        manifest     jsonb,
        embedder_state jsonb,
        slot_count   integer NOT NULL DEFAULT 0,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      );
      CREATE TABLE kb_state (
        id         integer PRIMARY KEY CHECK (id = 1),
        build_id   text REFERENCES kb_builds (build_id),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO kb_state (id, build_id) VALUES (1, NULL);
      CREATE TABLE kb_rebuild_lock (
        id           integer PRIMARY KEY CHECK (id = 1),
        holder       text NOT NULL,
        acquired_at  timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
const MIGRATION_LOCK_KEY = 7_314_401; // pg_advisory_xact_lock key: any constant private to this program

/** `CREATE EXTENSION vector`, with the two failures people meet turned into instructions. */
async function ensureVectorExtension(client: pg.PoolClient): Promise<void> {
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS vector");
  } catch (err) {
    const state = sqlState(err);
    // 0A000/58P01: the extension's files are not installed on the server. 42501: not allowed to create it.
    if (
      state === "0A000" ||
      state === "58P01" ||
      /extension "vector" is not available|could not open extension control file/i.test(String((err as Error).message))
    ) {
      throw new AppError(
        "EXTENSION_MISSING",
        'The PostgreSQL server at DATABASE_URL does not have the pgvector extension. Install pgvector on the server (the package postgresql-<version>-pgvector from apt.postgresql.org, or build it from github.com/pgvector/pgvector), then start again; the "vector" extension is created automatically.',
        { status: 503, expose: true, cause: err },
      );
    }
    if (state === "42501") {
      throw new AppError(
        "EXTENSION_MISSING",
        "The database user may not create the pgvector extension. Ask an administrator to run CREATE EXTENSION vector; in this database once, then start again.",
        { status: 503, expose: true, cause: err },
      );
    }
    rethrowDbError(err);
  }
}

/** Brings the schema up to date; returns the versions applied by this call. */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect().catch(rethrowDbError);
  const applied: number[] = [];
  try {
    // Everything under the lock, extension and bookkeeping table included: two processes starting together on a
    // fresh database would otherwise both try to create them (a duplicate-key error on real PostgreSQL).
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await ensureVectorExtension(client);
    await client.query(
      "CREATE TABLE IF NOT EXISTS kb_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM kb_schema_migrations");
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new AppError(
        "DB_SCHEMA_TOO_NEW",
        `The database schema is version ${current}, written by a newer version of this program (this one knows ${SCHEMA_VERSION}). Upgrade this program, or point DATABASE_URL at another database.`,
        { status: 503, expose: true },
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query("INSERT INTO kb_schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    rethrowDbError(err);
  } finally {
    client.release();
  }
}
