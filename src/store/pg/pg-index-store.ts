import pg from "pg";
import type { PgStoreConfig } from "../../config/config.ts";
import { AppError, describeError, IndexCorruptError } from "../../errors/app-error.ts";
import type { ChunkRecord } from "../chunk-record.ts";
import type { HnswSettings } from "../hnsw-index.ts";
import { newBuildId } from "../index-files.ts";
import type { IndexStore, NewIndex, VectorBuilder } from "../index-store.ts";
import { KnowledgeIndex, type LexicalTokens } from "../knowledge-index.ts";
import { type Manifest, parseManifest } from "../manifest.ts";
import { migrate } from "./migrations.ts";
import { isConnectionError, rethrowDbError, sqlState } from "./pg-errors.ts";
import { acquirePgRebuildLock } from "./pg-rebuild-lock.ts";
import { PgVectorSearch, vectorLiteral, vectorType } from "./pg-vector-search.ts";

/** Channel of the NOTIFY sent when a build is published (payload: the build id). */
export const PUBLISH_CHANNEL = "kb_index";
const TABLE_PREFIX = "kb_chunks_";
const TABLE_NAME = /^kb_chunks_[0-9a-z_]+$/;
/** Rows per INSERT: a few MB of vector text per statement. */
const BATCH_ROWS = 500;
/** Client-side bound on one statement of a build (the HNSW index over 100k rows took minutes on PGlite). */
const BUILD_STATEMENT_TIMEOUT_MS = 6 * 60 * 60 * 1000;

/** A query with the build's client-side bound (`query_timeout` per query: pg reads it, its types do not list it). */
function longQuery(text: string, values: unknown[] = []): pg.QueryConfig {
  return { text, values, query_timeout: BUILD_STATEMENT_TIMEOUT_MS } as pg.QueryConfig;
}

class PgBuilder implements VectorBuilder {
  readonly added = new Map<number, Float32Array>();
  readonly copied = new Map<number, number>();
  readonly removed = new Set<number>();

  constructor(
    readonly dimensions: number,
    /** The previous build's table: the source of copies, and of every kept row in an incremental build. */
    readonly previousTable: string | undefined,
    readonly incremental: boolean,
  ) {}

  add(vector: Float32Array, label: number): void {
    if (vector.length !== this.dimensions) throw new Error(`vector has ${vector.length} dimensions, the index ${this.dimensions}`);
    this.added.set(label, vector);
  }

  copy(from: number, label: number): void {
    if (!this.previousTable) throw new Error("no previous index to copy a vector from");
    this.copied.set(label, from);
  }

  remove(label: number): void {
    this.removed.add(label);
  }
}

/**
 * PostgreSQL + pgvector (VECTOR_STORE=pgvector): every server replica answers from the same published build.
 *
 * A build writes its own table (chunks, lexical tokens, vectors, then an HNSW index over them) and is published by one
 * transaction that points kb_state at it and NOTIFYs kb_index; readers load the chunk records and tokens into memory
 * (lexical search stays in process, so rankings match the file store exactly) and send only nearest-neighbour queries
 * to the database. The previous build's table is kept one more round for replicas that have not switched yet.
 * Plain `pg` rather than @langchain/community's PGVectorStore: see docs/adr/0002-pgvector-store.md.
 */
export class PgIndexStore implements IndexStore {
  readonly kind = "pgvector";
  private ready: Promise<void> | undefined;

  private constructor(
    readonly pool: pg.Pool,
    private readonly config: PgStoreConfig,
    private readonly hnsw: HnswSettings,
  ) {}

  /**
   * Opens the pool and brings the schema up to date. A database that cannot be reached yet is not fatal: the store
   * retries the migration on its next use, so a server starts degraded and recovers by itself. A missing pgvector
   * extension or a newer schema is fatal (it needs a person).
   */
  static async connect(config: PgStoreConfig, hnsw: HnswSettings): Promise<PgIndexStore> {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolMax,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: config.statementTimeoutMs,
      // Client-side bound too: a server that accepts bytes but never answers must not hang a request forever.
      query_timeout: config.statementTimeoutMs + 2_000,
      application_name: "kb-assistant",
      // The CLI exits when its work is done instead of waiting for idle connections to time out.
      allowExitOnIdle: true,
    });
    // An idle connection dropped by the server emits here; without a listener it would crash the process.
    pool.on("error", () => {});
    const store = new PgIndexStore(pool, config, hnsw);
    try {
      await store.ensureReady();
    } catch (err) {
      if (!(err instanceof AppError && err.code === "DB_UNAVAILABLE")) {
        await pool.end().catch(() => {});
        throw err;
      }
    }
    return store;
  }

  private ensureReady(): Promise<void> {
    this.ready ??= migrate(this.pool).then(
      () => undefined,
      (err: unknown) => {
        this.ready = undefined;
        throw err;
      },
    );
    return this.ready;
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    await this.ensureReady();
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      rethrowDbError(err);
    }
  }

  async hasIndex(): Promise<boolean> {
    return (await this.publishedVersion()) !== undefined;
  }

  async publishedVersion(): Promise<string | undefined> {
    const { rows } = await this.query<{ build_id: string | null }>("SELECT build_id FROM kb_state WHERE id = 1");
    return rows[0]?.build_id ?? undefined;
  }

  async read(_opts: { efSearch: number }): Promise<KnowledgeIndex> {
    const { rows } = await this.query<{ build_id: string; table_name: string; manifest: unknown; embedder_state: unknown; slot_count: number }>(
      `SELECT b.build_id, b.table_name, b.manifest, b.embedder_state, b.slot_count
       FROM kb_state s JOIN kb_builds b ON b.build_id = s.build_id WHERE s.id = 1`,
    );
    const build = rows[0];
    if (!build) throw this.notFound();
    const manifest = parseManifest(() => build.manifest, `The manifest of the published build ${build.build_id} in the database is unreadable.`);
    if (!TABLE_NAME.test(build.table_name)) throw new IndexCorruptError(`The published build ${build.build_id} names an unexpected table.`);

    let chunkRows: { label: number; chunk: ChunkRecord; words: string; bigrams: string }[];
    try {
      // Loading 100k chunk records is not a request: it gets the build's bound, not the per-query one.
      chunkRows = (await this.pool.query(longQuery(`SELECT label, chunk, words, bigrams FROM ${build.table_name} ORDER BY label`))).rows;
    } catch (err) {
      if (sqlState(err) === "42P01") throw new IndexCorruptError(`The table of the published build ${build.build_id} is missing.`, err);
      rethrowDbError(err);
    }
    const slots: (ChunkRecord | null)[] = new Array(build.slot_count).fill(null);
    const tokens: LexicalTokens[] = Array.from({ length: build.slot_count }, () => ({ words: [], bigrams: [] }));
    const split = (s: string): string[] => (s ? s.split(" ") : []);
    for (const row of chunkRows) {
      if (row.label < 0 || row.label >= build.slot_count)
        throw new IndexCorruptError(`The build ${build.build_id} has a chunk outside its ${build.slot_count} slots.`);
      slots[row.label] = row.chunk;
      tokens[row.label] = { words: split(row.words), bigrams: split(row.bigrams) };
    }
    if (chunkRows.length !== manifest.counts.chunks) {
      throw new IndexCorruptError(`Index counts disagree (manifest ${manifest.counts.chunks}, database ${chunkRows.length}).`);
    }
    const vectors = new PgVectorSearch(this.pool, build.table_name, manifest.embeddings.dimensions, this.config.efSearch);
    return new KnowledgeIndex(undefined, manifest, slots, tokens, vectors, build.embedder_state ?? undefined);
  }

  async lock(): Promise<() => Promise<void>> {
    await this.ensureReady();
    return acquirePgRebuildLock(this.pool);
  }

  /** Tables of builds that never published (a killed build), and chunk tables no build row knows. */
  async removeLeftovers(): Promise<void> {
    const { rows } = await this.query<{ build_id: string; table_name: string }>("SELECT build_id, table_name FROM kb_builds WHERE status = 'building'");
    for (const r of rows) await this.dropBuild(r.build_id, r.table_name);
    const orphans = await this.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kb\\_chunks\\_%'
       AND tablename NOT IN (SELECT table_name FROM kb_builds)`,
    );
    for (const r of orphans.rows) if (TABLE_NAME.test(r.tablename)) await this.query(`DROP TABLE IF EXISTS ${r.tablename}`);
  }

  async builder(opts: { dimensions: number; capacity: number; previous: KnowledgeIndex | undefined; incremental: boolean }): Promise<VectorBuilder> {
    vectorType(opts.dimensions); // refuse unsupported dimensions before anything is written
    const previousTable = opts.previous ? await this.tableOf(opts.previous.version) : undefined;
    return new PgBuilder(opts.dimensions, previousTable, opts.incremental && previousTable !== undefined);
  }

  private async tableOf(buildId: string): Promise<string | undefined> {
    const { rows } = await this.query<{ table_name: string }>("SELECT table_name FROM kb_builds WHERE build_id = $1", [buildId]);
    const name = rows[0]?.table_name;
    return name && TABLE_NAME.test(name) ? name : undefined;
  }

  async publish(build: NewIndex, vectors: VectorBuilder, previous: KnowledgeIndex | undefined): Promise<KnowledgeIndex> {
    if (!(vectors instanceof PgBuilder)) throw new Error("a pgvector store publishes only its own builds");
    const buildId = newBuildId();
    const table = `${TABLE_PREFIX}${buildId.replace(/-/g, "_")}`;
    const dims = vectors.dimensions;
    const type = vectorType(dims);
    const manifest: Manifest = { ...build.manifest, buildId, builtAt: new Date().toISOString(), checksums: {} };
    await this.query("INSERT INTO kb_builds (build_id, table_name, status) VALUES ($1, $2, 'building')", [buildId, table]);
    let replaced: string | undefined;
    // The build's own connection: statements that load and index 100k rows take minutes, far past the per-query
    // bounds meant for answering requests, and the index build gets more working memory (session settings, reset
    // before the connection goes back to the pool).
    let client: pg.PoolClient | undefined;
    const run = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> => {
      client ??= await this.pool.connect();
      return client.query<R>(longQuery(text, values));
    };
    try {
      await run("SET statement_timeout = 0");
      await run(`SET maintenance_work_mem = '${this.config.buildMemoryMb}MB'`);
      await run(
        `CREATE TABLE ${table} (label integer PRIMARY KEY, chunk jsonb NOT NULL, words text NOT NULL, bigrams text NOT NULL, embedding ${type}(${dims}) NOT NULL)`,
      );
      const row = (label: number): [string, string, string] => {
        const chunk = build.slots[label];
        if (!chunk) throw new Error(`label ${label} has no chunk`);
        const t = build.tokens[label] ?? { words: [], bigrams: [] };
        return [JSON.stringify(chunk), t.words.join(" "), t.bigrams.join(" ")];
      };
      if (vectors.incremental && vectors.previousTable) {
        // Kept chunks move over inside the database: no vector leaves it.
        await run(`INSERT INTO ${table} SELECT label, chunk, words, bigrams, embedding FROM ${vectors.previousTable} WHERE NOT (label = ANY($1::int[]))`, [
          [...vectors.removed],
        ]);
      }
      const copies = [...vectors.copied.entries()];
      for (let i = 0; i < copies.length; i += BATCH_ROWS) {
        const batch = copies.slice(i, i + BATCH_ROWS);
        const rows = batch.map(([label]) => row(label));
        const result = await run(
          `INSERT INTO ${table} (label, chunk, words, bigrams, embedding)
           SELECT u.label, u.chunk::jsonb, u.words, u.bigrams, p.embedding
           FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[]) AS u(label, src, chunk, words, bigrams)
           JOIN ${vectors.previousTable} p ON p.label = u.src`,
          [batch.map(([l]) => l), batch.map(([, from]) => from), rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
        );
        if (result.rowCount !== batch.length) throw new IndexCorruptError("Vectors to reuse are missing from the previous build's table.");
      }
      const adds = [...vectors.added.entries()];
      for (let i = 0; i < adds.length; i += BATCH_ROWS) {
        const batch = adds.slice(i, i + BATCH_ROWS);
        const rows = batch.map(([label]) => row(label));
        await run(
          `INSERT INTO ${table} (label, chunk, words, bigrams, embedding)
           SELECT u.label, u.chunk::jsonb, u.words, u.bigrams, u.embedding::${type}
           FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(label, chunk, words, bigrams, embedding)`,
          [batch.map(([l]) => l), rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), batch.map(([, v]) => vectorLiteral(v))],
        );
      }
      // The graph is built once over the loaded rows: much faster than growing it row by row.
      await run(
        `CREATE INDEX ON ${table} USING hnsw (embedding ${type}_cosine_ops) WITH (m = ${this.hnsw.M}, ef_construction = ${Math.max(this.config.efConstruction, 2 * this.hnsw.M)})`,
      );
      // Statistics for the new table now: without them the planner may scan every row instead of using the index
      // (measured on 6k chunks: 32 ms per query instead of a few).
      await run(`ANALYZE ${table}`);
      const { rows: counted } = await run<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      if (Number(counted[0]?.n) !== manifest.counts.chunks) {
        throw new IndexCorruptError(`The new build has ${counted[0]?.n} rows for ${manifest.counts.chunks} chunks; nothing was published.`);
      }
      await run("UPDATE kb_builds SET manifest = $2, embedder_state = $3, slot_count = $4 WHERE build_id = $1", [
        buildId,
        JSON.stringify(manifest),
        build.embedderState === undefined ? null : JSON.stringify(build.embedderState),
        build.slots.length,
      ]);
      await run("RESET statement_timeout");
      await run("RESET maintenance_work_mem");
      client?.release();
      client = undefined;
      replaced = await this.switchTo(buildId);
    } catch (err) {
      // A connection that failed mid-build (or still holds build settings) is not handed to anyone else.
      client?.release(err instanceof Error ? err : true);
      await this.dropBuild(buildId, table).catch(() => {
        // What is left is a leftover the next build removes under the lock.
      });
      if (isConnectionError(err)) rethrowDbError(err);
      if (err instanceof AppError) throw err;
      throw new AppError("INGEST_FAILED", `The index could not be written to the database (${describeError(err)}). Nothing was published.`, {
        status: 500,
        cause: err,
      });
    }
    // Published. Builds older than the one just replaced go; failing to drop them does not undo the build. The one
    // replaced is what was published at the switch, not `previous`: a --full build has no previous index, and other
    // replicas are still answering from the replaced build's table until their next poll.
    await this.dropOlderBuilds([buildId, replaced, previous?.version].filter((v): v is string => Boolean(v))).catch(() => {});
    return new KnowledgeIndex(
      undefined,
      manifest,
      build.slots,
      build.tokens,
      new PgVectorSearch(this.pool, table, dims, this.config.efSearch),
      build.embedderState,
    );
  }

  /** The one transaction every replica sees at once. Returns the build it replaced. */
  private async switchTo(buildId: string): Promise<string | undefined> {
    await this.ensureReady();
    const client = await this.pool.connect().catch(rethrowDbError);
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{ build_id: string | null }>("SELECT build_id FROM kb_state WHERE id = 1 FOR UPDATE");
      await client.query("UPDATE kb_builds SET status = 'published', published_at = now() WHERE build_id = $1", [buildId]);
      await client.query("UPDATE kb_state SET build_id = $1, updated_at = now() WHERE id = 1", [buildId]);
      await client.query("SELECT pg_notify($1, $2)", [PUBLISH_CHANNEL, buildId]);
      await client.query("COMMIT");
      return rows[0]?.build_id ?? undefined;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      rethrowDbError(err);
    } finally {
      client.release();
    }
  }

  private async dropOlderBuilds(keep: string[]): Promise<void> {
    const { rows } = await this.query<{ build_id: string; table_name: string }>(
      "SELECT build_id, table_name FROM kb_builds WHERE status = 'published' AND NOT (build_id = ANY($1::text[])) AND build_id IS DISTINCT FROM (SELECT build_id FROM kb_state WHERE id = 1)",
      [keep],
    );
    for (const r of rows) await this.dropBuild(r.build_id, r.table_name);
  }

  private async dropBuild(buildId: string, table: string): Promise<void> {
    if (TABLE_NAME.test(table)) await this.query(`DROP TABLE IF EXISTS ${table}`);
    await this.query("DELETE FROM kb_builds WHERE build_id = $1 AND build_id IS DISTINCT FROM (SELECT build_id FROM kb_state WHERE id = 1)", [buildId]);
  }

  /**
   * LISTEN on kb_index over a connection of its own (outside the pool: a listening connection is never handed to a
   * query). A dropped connection is re-opened every 2 s while the watch lasts, and each (re)connect also reports a
   * change, to catch up on anything published while it was away.
   */
  watch(onPublished: () => void): () => void {
    let stopped = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    const schedule = () => {
      if (stopped || retry) return;
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, 2_000);
      retry.unref();
    };
    const connect = async () => {
      const c = new pg.Client({ connectionString: this.config.url, connectionTimeoutMillis: 5_000, application_name: "kb-assistant listener" });
      c.on("error", () => schedule());
      c.on("end", () => schedule());
      c.on("notification", (msg) => {
        if (msg.channel === PUBLISH_CHANNEL) onPublished();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${PUBLISH_CHANNEL}`);
        if (stopped) {
          await c.end();
          return;
        }
        client = c;
        onPublished();
      } catch {
        c.end().catch(() => {});
        schedule();
      }
    };
    void connect();
    return () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      client?.end().catch(() => {});
    };
  }

  notFound(): AppError {
    return new AppError("INDEX_NOT_FOUND", "No index has been built yet in the database (DATABASE_URL). Build it with: npm run ingest", {
      status: 503,
      expose: true,
    });
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
