import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgliteServer, startPgliteServer } from "../../scripts/pglite-server.ts";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { LocalHashEmbeddings } from "../../src/providers/local-embeddings.ts";
import { SURVEY_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { defineIndexStoreContract, type StoreHarness } from "./index-store-contract.ts";

/**
 * The contract against PostgreSQL + pgvector: one PGlite server for the file (starting one takes seconds), and a fresh
 * database state per test (every table and the vector extension dropped, so each test also runs the migrations).
 */
let server: PgliteServer;
let admin: pg.Pool;

beforeAll(async () => {
  server = await startPgliteServer();
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
}, 120_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

async function resetDatabase(): Promise<void> {
  const { rows } = await admin.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
  for (const r of rows) await admin.query(`DROP TABLE IF EXISTS "${r.tablename}" CASCADE`);
  await admin.query("DROP EXTENSION IF EXISTS vector CASCADE");
}

const DEAD_BUILD = "20260101000000-dead00";

const harness: StoreHarness = {
  env: () => ({ VECTOR_STORE: "pgvector", DATABASE_URL: server.url, PG_POOL_MAX: "4" }),
  reset: resetDatabase,
  async leftovers() {
    const building = await admin.query<{ build_id: string }>("SELECT build_id FROM kb_builds WHERE status <> 'published'");
    const tables = await admin.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kb\\_chunks\\_%'
       AND tablename NOT IN (SELECT table_name FROM kb_builds WHERE status = 'published')`,
    );
    const missing = await admin.query<{ build_id: string }>(
      `SELECT build_id FROM kb_builds WHERE status = 'published'
       AND table_name NOT IN (SELECT tablename FROM pg_tables WHERE schemaname = current_schema())`,
    );
    // Published builds beyond the current one and the one it replaced are leftovers too.
    const published = await admin.query<{ n: string }>("SELECT count(*) AS n FROM kb_builds WHERE status = 'published'");
    return [
      ...building.rows.map((r) => `building row ${r.build_id}`),
      ...tables.rows.map((r) => `table ${r.tablename}`),
      ...missing.rows.map((r) => `published build ${r.build_id} without its table`),
      ...(Number(published.rows[0]?.n) > 2 ? [`${published.rows[0]?.n} published builds kept`] : []),
    ];
  },
  async plantLeftovers() {
    // A build killed after creating its table (a 'building' row), and a table whose row is gone (killed mid-cleanup).
    const table = `kb_chunks_${DEAD_BUILD.replace(/-/g, "_")}`;
    await admin.query("INSERT INTO kb_builds (build_id, table_name, status) VALUES ($1, $2, 'building')", [DEAD_BUILD, table]);
    await admin.query(`CREATE TABLE ${table} (label integer PRIMARY KEY, chunk jsonb NOT NULL, words text NOT NULL, bigrams text NOT NULL)`);
    await admin.query(`INSERT INTO ${table} VALUES (0, '{}', '', '')`);
    await admin.query("CREATE TABLE kb_chunks_20260101000001_orphan0 (label integer)");
  },
  async lockResidue() {
    const lease = await admin.query<{ holder: string }>("SELECT holder FROM kb_rebuild_lock");
    // PGlite is one backend session for every connection: an advisory lock a build forgot to release stays visible
    // here even after its pool is closed (on a real server it would die with the connection).
    const advisory = await admin.query<{ objid: string }>("SELECT objid::text FROM pg_locks WHERE locktype = 'advisory'");
    return [...lease.rows.map((r) => `lease ${r.holder}`), ...advisory.rows.map((r) => `advisory lock ${r.objid}`)];
  },
};

defineIndexStoreContract("pgvector", harness);

/**
 * SAME ANSWERS across stores: one corpus (the survey corpus, 268 chunks), the same settings, built once into hnswlib
 * files and once into pgvector. Both full builds fit the local embedder on the same texts, so both stores hold the
 * same vectors under the same labels; the lexical side is in-process in both.
 *
 * What was measured (PGlite 0.5.14, pgvector 0.8.7, hnswlib-node 3): for every query the two dense lists agree, in
 * order and similarity, on every neighbour with a similarity above zero. They differ only past that point: the local
 * hash embedding is sparse, so many chunks share no feature with a query and tie at similarity exactly 0, and which
 * of those tied chunks fill the rest of the dense candidates is arbitrary in each HNSW implementation. Such chunks
 * once took part in the fusion and could move a 5th place between stores ("思维链 prompting" did); the retriever now
 * leaves neighbours with similarity ≈ 0 out (they are no evidence), and the answers are the same: every query gives
 * exactly the same top-5 ids and scores from both stores.
 */
describe("the same answers from the hnswlib store and the pgvector store", () => {
  const QUERIES = [
    "GPT-4 的上下文长度",
    "What is RLHF?",
    "LLaMA 模型参数规模",
    "Transformer 注意力机制",
    "指令微调",
    "scaling laws",
    "ChatGLM",
    "模型量化",
    "思维链 prompting",
    "混合专家模型 MoE",
  ];
  let ws: ReturnType<typeof tempWorkspace>;
  let files: KnowledgeBase;
  let database: KnowledgeBase;

  beforeAll(async () => {
    await resetDatabase();
    ws = tempWorkspace(SURVEY_CORPUS);
    files = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
    database = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir, harness.env()));
    const [a, b] = [await files.ingest(), await database.ingest()];
    expect(files.store.kind).toBe("hnsw");
    expect(database.store.kind).toBe("pgvector");
    expect(b).toMatchObject({ files: a.files, chunks: a.chunks, embedded: a.chunks });
    expect(a.chunks).toBeGreaterThan(100);
  });
  afterAll(async () => {
    await files?.close();
    await database?.close();
    ws?.cleanup();
  });

  it("the same chunks under the same labels, and the same positive-similarity dense neighbours", async () => {
    const fi = files.index!;
    const di = database.index!;
    expect(di.slots.map((c) => c?.id ?? null)).toEqual(fi.slots.map((c) => c?.id ?? null));
    expect(di.embedderState).toEqual(fi.embedderState);
    const embedder = new LocalHashEmbeddings({ dimensions: fi.manifest.embeddings.dimensions });
    embedder.importState(fi.embedderState);
    for (const q of QUERIES) {
      const v = await embedder.embedQuery(q);
      const positive = (ns: { label: number; similarity: number }[]) => ns.filter((n) => n.similarity > 1e-6);
      const a = positive(await fi.vectors.search(v, 50));
      const b = positive(await di.vectors.search(v, 50));
      expect(a.length, q).toBeGreaterThan(0);
      expect(
        b.map((n) => n.label),
        q,
      ).toEqual(a.map((n) => n.label));
      for (const [i, n] of b.entries()) expect(n.similarity, q).toBeCloseTo(a[i]!.similarity, 5);
    }
  });

  it("exactly the same top-5 (ids and scores) for every query", async () => {
    for (const q of QUERIES) {
      const a = await files.search(q, 5);
      const b = await database.search(q, 5);
      expect(a.length, q).toBeGreaterThan(0);
      expect(
        b.map((h) => [h.id, h.score, h.source, h.headings]),
        q,
      ).toEqual(a.map((h) => [h.id, h.score, h.source, h.headings]));
    }
  });
});
