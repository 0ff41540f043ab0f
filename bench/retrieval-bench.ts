import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/config.ts";
import { readQaFile } from "../src/eval/qa-file.ts";
import { percentile, runEval } from "../src/eval/run-eval.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { sharedDir } from "./shared-dir.ts";

/**
 * `npm run bench`: ingest speed on docs-corpus and the 196-page pumpkin book, retrieval quality on the pumpkin dev set
 * (hit@k, MRR), and in-process search latency. Uses the product's normal ingestion path and configuration (env vars
 * such as CHUNK_SIZE apply), a temp index folder, and writes bench/results/retrieval.json + docs/benchmarks.md.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = sharedDir();
if (!shared) {
  console.log("SKIP: ../shared (the pumpkin book and its questions) is not present; set SHARED_DIR to run the benchmark.");
  process.exit(0);
}
const pumpkinDir = join(shared, "bench/pumpkin");
const work = mkdtempSync(join(tmpdir(), "kb-bench-"));

function rssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function timedIngest(docsDir: string, name: string) {
  const config = loadConfig({ ...process.env, DOCS_DIR: docsDir, VECTORSTORE_DIR: join(work, `store-${name}`) });
  const kb = await KnowledgeBase.open(config);
  const t0 = performance.now();
  const summary = await kb.ingest();
  const seconds = (performance.now() - t0) / 1000;
  return { kb, config, summary, seconds };
}

try {
  // Warm jieba's dictionary once so neither timing pays for it.
  const docs = await timedIngest(resolve(root, "docs-corpus"), "docs");
  const docsRuns = [docs.seconds];
  for (let i = 0; i < 2; i++) docsRuns.push((await timedIngest(resolve(root, "docs-corpus"), `docs${i}`)).seconds);
  docsRuns.sort((a, b) => a - b);

  const bookDir = join(work, "pumpkin-docs");
  mkdirSync(bookDir);
  copyFileSync(join(pumpkinDir, "pumpkin_book.pdf"), join(bookDir, "pumpkin_book.pdf"));
  const book = await timedIngest(bookDir, "pumpkin");
  const peakRss = rssMb();

  const items = readQaFile(join(pumpkinDir, "dev.jsonl"));
  const ks = [1, 3, 5, 10];
  const quality = await runEval(book.kb, items, ks);

  // Latency: every dev question, 5 rounds, after the quality pass warmed everything.
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const q of items) {
      const t0 = performance.now();
      await book.kb.retrieve(q.question, 10);
      times.push(performance.now() - t0);
    }
  }
  times.sort((a, b) => a - b);

  const result = {
    date: new Date().toISOString().slice(0, 10),
    settings: { chunker: book.config.chunker, hnsw: book.config.hnsw, embeddings: book.kb.status().index.embeddings },
    docsCorpus: { files: docs.summary.files, chunks: docs.summary.chunks, ingestSecondsMedian: docsRuns[1] ?? docs.seconds },
    pumpkin: {
      pages: 196,
      chunks: book.summary.chunks,
      failed: book.summary.failed,
      ingestSeconds: book.seconds,
      chunksPerSecond: book.summary.chunks / book.seconds,
      peakRssMb: peakRss,
      questions: quality.questions,
      hitAt: quality.hitAt,
      mrr: quality.mrr,
      searchMs: { p50: percentile(times, 50), p99: percentile(times, 99), samples: times.length },
      misses: quality.perQuestion.filter((q) => q.rank === null || q.rank > 5).map((q) => ({ id: q.id, rank: q.rank })),
    },
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/retrieval.json"), `${JSON.stringify(result, null, 2)}\n`);

  const p = result.pumpkin;
  const f = (x: number) => x.toFixed(3);
  const table = [
    `## Retrieval benchmark (${result.date})`,
    "",
    "Command: `npm run bench` (2-core machine; medians where repeated).",
    `Settings: chunk ${result.settings.chunker.chunkSize}/overlap ${result.settings.chunker.chunkOverlap}, embeddings ${result.settings.embeddings.provider}:${result.settings.embeddings.model} (${result.settings.embeddings.dimensions} d), HNSW M ${result.settings.hnsw.M}, efConstruction ${result.settings.hnsw.efConstruction}, ef ${result.settings.hnsw.efSearch}.`,
    "",
    "| measure | value | target |",
    "| --- | --- | --- |",
    `| pumpkin dev hit@1 | ${f(p.hitAt["1"] ?? 0)} | ≥ 0.80 |`,
    `| pumpkin dev hit@3 | ${f(p.hitAt["3"] ?? 0)} | |`,
    `| pumpkin dev hit@5 | ${f(p.hitAt["5"] ?? 0)} | ≥ 0.92 |`,
    `| pumpkin dev hit@10 | ${f(p.hitAt["10"] ?? 0)} | ≥ 0.95 |`,
    `| pumpkin dev MRR@10 | ${f(p.mrr)} | |`,
    `| docs-corpus full ingest (${result.docsCorpus.files} files, ${result.docsCorpus.chunks} chunks), median of 3 | ${result.docsCorpus.ingestSecondsMedian.toFixed(2)} s | ≤ 3 s |`,
    `| pumpkin book full ingest (196 pages, ${p.chunks} chunks) | ${p.ingestSeconds.toFixed(2)} s (${p.chunksPerSecond.toFixed(0)} chunks/s) | ≤ 15 s |`,
    `| peak RSS (whole benchmark process) | ${p.peakRssMb.toFixed(0)} MB | ≤ 1 GB |`,
    `| search latency in-process, p50 / p99 (${p.searchMs.samples} queries) | ${p.searchMs.p50.toFixed(2)} / ${p.searchMs.p99.toFixed(2)} ms | ≤ 5 / ≤ 20 ms |`,
    "",
  ].join("\n");
  console.log(table);
  const mdPath = join(root, "docs/benchmarks.md");
  const { existsSync, readFileSync } = await import("node:fs");
  const previous = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : "# Benchmarks\n\n";
  const marker = /<!-- retrieval:start -->[\s\S]*<!-- retrieval:end -->/;
  const block = `<!-- retrieval:start -->\n${table}<!-- retrieval:end -->`;
  writeFileSync(mdPath, marker.test(previous) ? previous.replace(marker, block) : `${previous.trimEnd()}\n\n${block}\n`);
  console.log(`Wrote bench/results/retrieval.json and docs/benchmarks.md`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
