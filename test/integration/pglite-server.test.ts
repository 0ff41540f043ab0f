import pg from "pg";
import { toSql } from "pgvector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgliteServer, startPgliteServer } from "../../scripts/pglite-server.ts";

const DIMS = 1024;

/** Deterministic unit vectors: a seeded LCG, so failures reproduce. */
function unitVectors(count: number, seed: number): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => {
    const v = Array.from({ length: DIMS }, next);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

describe("scripts/pglite-server.ts: PGlite + pgvector over the Postgres wire protocol", () => {
  let server: PgliteServer;
  let pool: pg.Pool;

  beforeAll(async () => {
    server = await startPgliteServer({ port: 0 });
    pool = new pg.Pool({ connectionString: server.url, max: 4 });
  });
  afterAll(async () => {
    await pool?.end();
    await server?.stop();
  });

  it("listens on a real loopback port and gives a URL the pg driver accepts", async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`);
    const { rows } = await pool.query("SELECT current_user AS u, current_database() AS d, version() AS v");
    expect(rows[0]).toMatchObject({ u: "postgres", d: "postgres" });
    expect(rows[0].v).toContain("PGlite");
  });

  it("does not create the extension itself; CREATE EXTENSION vector works through pg", async () => {
    const before = await pool.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
    expect(before.rowCount).toBe(0);
    await pool.query("CREATE EXTENSION IF NOT EXISTS vector");
    const after = await pool.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
    expect(after.rows[0]?.extversion).toMatch(/^0\.\d+\.\d+$/);
  });

  it("vector(1024) + HNSW cosine index + hnsw.ef_search + ORDER BY <=> with pgvector's toSql", async () => {
    const vectors = unitVectors(300, 7);
    await pool.query("CREATE TABLE chunks (label int PRIMARY KEY, embedding vector(1024) NOT NULL)");
    for (let i = 0; i < vectors.length; i += 100) {
      const batch = vectors.slice(i, i + 100);
      await pool.query("INSERT INTO chunks (label, embedding) SELECT * FROM unnest($1::int[], $2::vector[])", [
        batch.map((_, j) => i + j),
        batch.map((v) => toSql(v)),
      ]);
    }
    await pool.query("CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)");
    const client = await pool.connect();
    try {
      await client.query("SET hnsw.ef_search = 100");
      expect((await client.query("SHOW hnsw.ef_search")).rows[0]["hnsw.ef_search"]).toBe("100");
      // 300 rows is small enough for the planner to prefer a sequential scan; force the index to check it is usable.
      // (Settings are shared by all connections: PGlite is one backend session. Hence the RESET.)
      await client.query("SET enable_seqscan = off");
      const plan = await client.query("EXPLAIN SELECT label FROM chunks ORDER BY embedding <=> $1 LIMIT 10", [toSql(vectors[0]!)]);
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("chunks_embedding_hnsw");
      for (const probe of [0, 123, 299]) {
        const { rows } = await client.query("SELECT label, embedding <=> $1 AS distance FROM chunks ORDER BY embedding <=> $1 LIMIT 10", [
          toSql(vectors[probe]!),
        ]);
        expect(rows).toHaveLength(10);
        expect(rows[0]).toMatchObject({ label: probe });
        expect(Number(rows[0].distance)).toBeLessThan(1e-5);
        const distances = rows.map((r) => Number(r.distance));
        expect([...distances].sort((a, b) => a - b)).toEqual(distances);
      }
    } finally {
      await client.query("RESET enable_seqscan");
      client.release();
    }
  });

  it("serves a pool of 4 connections at once with correct, unmixed results", async () => {
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect(), pool.connect()]);
    try {
      expect(pool.totalCount).toBe(4);
      // Each connection runs its own sequence; the four sequences interleave on the server's single session.
      const results = (
        await Promise.all(
          clients.map(async (c, n) => {
            const ok: boolean[] = [];
            for (let j = 0; j < 20; j++) {
              const i = n * 100 + j;
              const r =
                j % 2
                  ? (await c.query("SELECT $1::int * 2 AS x", [i])).rows[0].x === i * 2
                  : (await c.query("SELECT $1::text || '/' || $2::text AS s, 1 AS one", [`a${i}`, `b${i}`])).rows[0].s === `a${i}/b${i}`;
              ok.push(r);
            }
            return ok;
          }),
        )
      ).flat();
      expect(results).toHaveLength(80);
      expect(results.every(Boolean)).toBe(true);
    } finally {
      for (const c of clients) c.release();
    }
  });

  it("keeps one connection's open transaction away from the others (they wait for COMMIT)", async () => {
    const [a, b] = await Promise.all([pool.connect(), pool.connect()]);
    try {
      await a.query("CREATE TABLE tx_probe (id int)");
      await a.query("BEGIN");
      await a.query("INSERT INTO tx_probe VALUES (1)");
      let bDone = false;
      const bCount = b.query("SELECT count(*)::int AS n FROM tx_probe").then((r) => {
        bDone = true;
        return r.rows[0].n as number;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(bDone).toBe(false);
      await a.query("COMMIT");
      expect(await bCount).toBe(1);
    } finally {
      a.release();
      b.release();
    }
  });
});
