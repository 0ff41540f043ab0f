import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXACT_SEARCH, HnswIndex, type Neighbor } from "../../../src/store/hnsw-index.ts";

/**
 * The exact scan a small index answers with must give what the graph gives: at a search width above the index size
 * hnswlib's walk is exhaustive, so both return the same labels in the same order with the same cosine similarity.
 */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIMS = 24;
const rand = seeded(42);
/** Not normalised (hnswlib normalises for the cosine space, and so must the scan); `nonZero` random components set. */
const vector = (nonZero = DIMS): Float32Array => {
  const v = new Float32Array(DIMS);
  if (nonZero >= DIMS) for (let j = 0; j < DIMS; j++) v[j] = (rand() - 0.5) * 4;
  else for (let t = 0; t < nonZero; t++) v[Math.floor(rand() * DIMS)] = (rand() - 0.5) * 4;
  return v;
};
const settings = { M: 16, efConstruction: 200, efSearch: 768 };
const graphOnly = { maxVectors: 0, maxNonZero: 0 };

/** Same neighbours, order and similarity; `related` compares only similarities > 1e-6, as retrieval uses them (sparse
 * vectors tie at exactly 0, and which tied ones a graph returns is arbitrary). */
function expectSame(exact: Neighbor[], graph: Neighbor[], what: string, related = false): void {
  if (related) {
    exact = exact.filter((n) => n.similarity > 1e-6);
    graph = graph.filter((n) => n.similarity > 1e-6);
  }
  expect(
    exact.map((n) => n.label),
    what,
  ).toEqual(graph.map((n) => n.label));
  // On x64 the scan sums as hnswlib's SSE build does: the very same float32 similarities.
  if (process.arch === "x64")
    expect(
      exact.map((n) => n.similarity),
      what,
    ).toEqual(graph.map((n) => n.similarity));
  exact.forEach((n, i) => {
    expect(Math.abs(n.similarity - (graph[i]?.similarity ?? Number.NaN)), what).toBeLessThan(1e-6);
  });
}

describe("HnswIndex exact scan", () => {
  const dir = mkdtempSync(join(tmpdir(), "kb-hnsw-exact-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const index = HnswIndex.create(DIMS, 16, settings, graphOnly);
  for (let i = 0; i < 300; i++) index.add(vector(i % 5 === 0 ? 6 : DIMS), i);
  // Tombstones, as an incremental build leaves them.
  for (let i = 5; i < 300; i += 13) index.remove(i);
  const removed = new Set(Array.from({ length: 23 }, (_, i) => 5 + 13 * i));
  const queries = [...Array.from({ length: 20 }, () => vector()), ...Array.from({ length: 20 }, () => vector(4))];

  it("returns the graph's top k (labels, order, similarity) for dense and sparse queries, skipping tombstones", () => {
    for (const [qi, q] of queries.entries()) {
      for (const k of [1, 10, 50, 277]) {
        const exact = index.searchExact(q, k);
        expectSame(exact, index.searchGraph(q, k), `query ${qi}, k ${k}`);
        expect(exact).toHaveLength(k);
        expect(exact.some((n) => removed.has(n.label))).toBe(false);
      }
    }
  });

  it("asked for more than the live vectors, returns them all", () => {
    expect(index.searchExact(queries[0] ?? vector(), 1000)).toHaveLength(300 - removed.size);
  });

  it("takes a loaded index's vectors from its file (tombstones left out), not from hnswlib", () => {
    // Sparse vectors, like the local embedder's: the kind of index that keeps a copy for the scan.
    const sparse = HnswIndex.create(DIMS, 16, settings);
    for (let i = 0; i < 200; i++) sparse.add(vector(6), i);
    for (let i = 3; i < 200; i += 17) sparse.remove(i);
    const file = join(dir, "sparse.bin");
    sparse.write(file);
    const loaded = HnswIndex.read(file, DIMS, settings);
    expect(loaded.holdsScanCopy).toBe(true);
    expect(loaded.exactLimits).toEqual(EXACT_SEARCH);
    for (const q of queries) {
      const scanned = loaded.searchExact(q, 50);
      expectSame(scanned, loaded.searchGraph(q, 50), "read back", true);
      expect(scanned.some((n) => (n.label - 3) % 17 === 0)).toBe(false);
      // With the default limits a sparse query on this small index takes the scan, and gets the same answer.
      expectSame(loaded.search(q, 50), scanned, "search");
    }
    for (const q of queries) expectSame(loaded.searchExact(q, 50), sparse.searchExact(q, 50), "file vs hnswlib");
  });

  it("keeps no copy for dense vectors (an API model's), whose dense queries take the graph", () => {
    const file = join(dir, "dense.bin");
    index.write(file);
    // A query with more non-zero components than the limit takes the graph (here: the dense ones, all 24).
    const loaded = HnswIndex.read(file, DIMS, settings, { maxVectors: 10_000, maxNonZero: DIMS / 2 });
    expect(loaded.holdsScanCopy).toBe(false);
    for (const q of queries.slice(0, 5)) expectSame(loaded.search(q, 20), index.searchGraph(q, 20), "dense");
    expect(loaded.holdsScanCopy).toBe(false);
  });

  it("sees vectors added and removed after its first scan", () => {
    const small = HnswIndex.create(DIMS, 16, settings);
    for (let i = 0; i < 30; i++) small.add(vector(), i);
    const q = vector();
    small.searchExact(q, 5);
    small.add(q, 30);
    expect(small.searchExact(q, 1)[0]?.label).toBe(30);
    expect(small.searchExact(q, 1)[0]?.similarity).toBeCloseTo(1, 6);
    small.remove(30);
    expect(small.searchExact(q, 40).map((n) => n.label)).not.toContain(30);
    expectSame(small.searchExact(q, 10), small.searchGraph(q, 10), "after remove");
  });

  it("matches the graph for dimensions hnswlib sums in other ways (SIMD residuals, no SIMD)", () => {
    for (const dims of [3, 7, 21, 40]) {
      const r = seeded(dims);
      const v = () => Float32Array.from({ length: dims }, () => (r() - 0.5) * 3);
      const small = HnswIndex.create(dims, 16, settings);
      for (let i = 0; i < 120; i++) small.add(v(), i);
      for (let i = 0; i < 10; i++) {
        const q = v();
        expectSame(small.searchExact(q, 30), small.searchGraph(q, 30), `${dims} dimensions`);
      }
    }
  });

  it("breaks ties by the lower label, and refuses a query of other dimensions", () => {
    const ties = HnswIndex.create(DIMS, 16, settings);
    const v = vector();
    for (const label of [7, 3, 5]) ties.add(v, label);
    ties.add(vector(), 9);
    expect(ties.searchExact(v, 3).map((n) => n.label)).toEqual([3, 5, 7]);
    expect(() => ties.searchExact(new Float32Array(DIMS + 1), 3)).toThrow(/dimensional/);
  });
});
