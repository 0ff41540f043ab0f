import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { LocalHashEmbeddings } from "../src/providers/local-embeddings.ts";
import { HnswIndex } from "../src/store/hnsw-index.ts";
import { corpusSentences, SyntheticCorpus, seededRandom } from "./scale-corpus.ts";

/**
 * `npx tsx bench/vector-search-bench.ts [sizes…]`: exact scan vs hnswlib graph search per query, to choose
 * EXACT_SEARCH_MAX_VECTORS (src/store/hnsw-index.ts). For each size (default 268 1000 2000 5000 10000) and two kinds of
 * vectors — the local embedder's (sparse TF-IDF hashed into 1024 dimensions, over synthetic docs-corpus-like chunks)
 * and dense random unit vectors (what an API embedding model gives) — it builds a graph with the default settings
 * (M 16, ef_construction 200), then times `searchGraph` at ef 768 and `searchExact`, k 50, over the same queries.
 * A last sweep scores random queries with a given number of non-zero components over SWEEP_SIZE (1000) dense rows, to
 * place the non-zero crossover. Prints median µs per query, the one-off cost of copying the vectors for the scan, how
 * many of the graph's neighbours the scan also returns (100 % below ~ef: the graph walk is exhaustive there) and the
 * largest similarity difference between the two.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SIZES = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const sizes = SIZES.length ? SIZES : [268, 1000, 2000, 5000, 10_000];
const DIMS = 1024;
const K = 50;
const EF = 768;
const QUERIES = 40;
const settings = { M: 16, efConstruction: 200, efSearch: EF };
const work = mkdtempSync(join(tmpdir(), "kb-vector-bench-"));

const questions: string[] = readFileSync(join(root, "bench/data/on-topic-survey.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { question: string }).question);

/** Random unit vectors with `nonZero` random non-zero components (all of them: dense). */
function randomVectors(n: number, seed: number, nonZero = DIMS): Float32Array[] {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, () => {
    const v = new Float32Array(DIMS);
    if (nonZero >= DIMS) for (let j = 0; j < DIMS; j++) v[j] = gauss();
    else for (let t = 0; t < nonZero; t++) v[Math.floor(rand() * DIMS)] = gauss();
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

async function localVectors(n: number): Promise<{ docs: Float32Array[]; queries: Float32Array[] }> {
  const corpus = new SyntheticCorpus(corpusSentences(join(root, "docs-corpus")), 7);
  const texts = Array.from({ length: n }, () => corpus.chunk());
  const embedder = new LocalHashEmbeddings({ dimensions: DIMS });
  embedder.fit(texts);
  const docs = await embedder.embedDocuments(texts);
  const queries = await Promise.all(questions.slice(0, QUERIES).map((q) => embedder.embedQuery(q)));
  return { docs, queries };
}

function medianMicros(run: () => void, queries: number, rounds: number): number {
  const perQuery: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    run();
    perQuery.push(((performance.now() - t0) * 1000) / queries);
  }
  perQuery.sort((a, b) => a - b);
  return perQuery[Math.floor(perQuery.length / 2)] ?? 0;
}

interface Row {
  kind: string;
  size: number;
  nonZero: number;
  graphUs: number;
  exactUs: number;
  copyMs: number;
  fileMs: number;
  overlap: number;
  maxDiff: number;
}

function measure(kind: string, docs: Float32Array[], queries: Float32Array[]): Row {
  // `search` never scans here (no query has 0 non-zero components): searchGraph and searchExact are called by name.
  const index = HnswIndex.create(DIMS, docs.length, settings, { maxVectors: Number.POSITIVE_INFINITY, maxNonZero: 0 });
  docs.forEach((v, i) => {
    index.add(v, i);
  });
  let t0 = performance.now();
  index.searchExact(queries[0] ?? new Float32Array(DIMS), K); // first use copies the vectors out of hnswlib
  const copyMs = performance.now() - t0;
  const file = join(work, "hnsw.bin");
  index.write(file);
  t0 = performance.now();
  index.loadExactVectors(file); // what a loaded or just-written index does instead
  const fileMs = performance.now() - t0;
  // Agreement on what retrieval uses: neighbours with similarity > 1e-6 (many sparse vectors tie at exactly 0).
  let same = 0;
  let total = 0;
  let maxDiff = 0;
  for (const q of queries) {
    const graph = index.searchGraph(q, K).filter((n) => n.similarity > 1e-6);
    const exact = index.searchExact(q, K).filter((n) => n.similarity > 1e-6);
    const exactLabels = new Set(exact.map((n) => n.label));
    same += graph.filter((n) => exactLabels.has(n.label)).length;
    total += Math.max(graph.length, exact.length);
    graph.forEach((n, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(n.similarity - (exact[i]?.similarity ?? 0)));
    });
  }
  const nonZero = queries.reduce((sum, q) => sum + q.reduce((c, x) => c + (x !== 0 ? 1 : 0), 0), 0) / queries.length;
  // Warm both paths, then alternate rounds so drift on a shared machine hits both alike.
  const graphRun = () => {
    for (const q of queries) index.searchGraph(q, K);
  };
  const exactRun = () => {
    for (const q of queries) index.searchExact(q, K);
  };
  for (let i = 0; i < 5; i++) {
    graphRun();
    exactRun();
  }
  const rounds = docs.length <= 2000 ? 30 : 10;
  const g: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < 3; i++) {
    g.push(medianMicros(graphRun, queries.length, rounds));
    e.push(medianMicros(exactRun, queries.length, rounds));
  }
  const min = (xs: number[]) => Math.min(...xs);
  return { kind, size: docs.length, nonZero, graphUs: min(g), exactUs: min(e), copyMs, fileMs, overlap: total ? same / total : 1, maxDiff };
}

const rows: Row[] = [];
for (const size of sizes) {
  const local = await localVectors(size);
  rows.push(measure("local (sparse)", local.docs, local.queries));
  console.error(`local ${size} done`);
  rows.push(measure("dense random", randomVectors(size, 11), randomVectors(QUERIES, 13)));
  console.error(`dense ${size} done`);
}
// Where a query's non-zero components make the scan lose, whatever the size: sparse random queries over dense rows.
const sweepSize = Number(process.env.SWEEP_SIZE ?? 1000);
const sweepDocs = randomVectors(sweepSize, 17);
for (const nonZero of [64, 128, 256, 384, 512]) {
  rows.push(measure(`random, query non-zero ${nonZero}`, sweepDocs, randomVectors(QUERIES, 19 + nonZero, nonZero)));
}
console.log(
  `| vectors | n | query non-zero | graph (ef ${EF}) µs/query | exact µs/query | exact ÷ graph | vectors from hnswlib / from file, ms | graph's neighbours (sim > 1e-6) in exact's | max Δ similarity |`,
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.kind} | ${r.size} | ${r.nonZero.toFixed(0)} | ${r.graphUs.toFixed(0)} | ${r.exactUs.toFixed(0)} | ${(r.exactUs / r.graphUs).toFixed(2)} | ${r.copyMs.toFixed(0)} / ${r.fileMs.toFixed(0)} | ${(100 * r.overlap).toFixed(1)} % | ${r.maxDiff.toExponential(1)} |`,
  );
}
rmSync(work, { recursive: true, force: true });
