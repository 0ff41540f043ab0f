import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { isHit, readQaFile } from "../src/eval/qa-file.ts";
import { summarise } from "../src/eval/metrics.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { DEFAULT_RETRIEVER_SETTINGS, HybridRetriever, type RetrieverSettings, type SearchSnapshot } from "../src/retrieval/hybrid-retriever.ts";
import { sharedDir } from "./shared-dir.ts";

/**
 * `npm run bench:sweep`: how chunk size/overlap and each retrieval signal affect pumpkin dev hit@k. This is how the
 * defaults were chosen; it prints a Markdown table. Override the grid with SIZES=300/60,400/80.
 */
const shared = sharedDir();
if (!shared) {
  console.log("SKIP: ../shared is not present; set SHARED_DIR to run the sweep.");
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), "kb-sweep-"));
const docs = join(work, "docs");
mkdirSync(docs);
copyFileSync(join(shared, "bench/pumpkin/pumpkin_book.pdf"), join(docs, "pumpkin_book.pdf"));
const items = readQaFile(join(shared, "bench/pumpkin/dev.jsonl"));
const sizes = (process.env.SIZES ?? "200/40,300/60,400/80,500/100,600/100").split(",");
const variants: [string, Partial<RetrieverSettings>][] = [
  ["hybrid (default)", {}],
  ["dense at half weight", { weights: { dense: 0.5, words: 1, bigrams: 1 } }],
  ["BM25 words + bigrams", { weights: { dense: 0, words: 1, bigrams: 1 } }],
  ["dense (local) only", { weights: { dense: 1, words: 0, bigrams: 0 } }],
  ["BM25 words only", { weights: { dense: 0, words: 1, bigrams: 0 } }],
];

console.log("| chunk/overlap | chunks | retrieval | hit@1 | hit@3 | hit@5 | hit@10 | MRR@10 |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
try {
  for (const size of sizes) {
    const [chunk, overlap] = size.split("/");
    const config = loadConfig({ ...process.env, DOCS_DIR: docs, VECTORSTORE_DIR: join(work, `s-${chunk}`), CHUNK_SIZE: chunk, CHUNK_OVERLAP: overlap });
    const kb = await KnowledgeBase.open(config);
    const summary = await kb.ingest();
    const index = kb.index;
    if (!index) throw new Error("no index after ingest");
    const embedder = (await import("../src/providers/create-embedding-model.ts")).embeddingModelFactory;
    const snapshot: SearchSnapshot = { index, embedder: (await embedder(config.embeddings))() };
    if ("importState" in snapshot.embedder) (snapshot.embedder as { importState(s: unknown): void }).importState(index.embedderState);
    for (const [name, patch] of variants) {
      const retriever = new HybridRetriever(kb.tokenizer, { ...DEFAULT_RETRIEVER_SETTINGS, ...patch });
      const ranks: (number | null)[] = [];
      for (const q of items) {
        const hits = await retriever.search(snapshot, { query: q.question, k: 10 });
        const i = hits.findIndex((c) => isHit(q, c));
        ranks.push(i >= 0 ? i + 1 : null);
      }
      const r = summarise(ranks, [1, 3, 5, 10]);
      const f = (x: number | undefined) => (x ?? 0).toFixed(3);
      console.log(
        `| ${size} | ${summary.chunks} | ${name} | ${f(r.hitAt["1"])} | ${f(r.hitAt["3"])} | ${f(r.hitAt["5"])} | ${f(r.hitAt["10"])} | ${f(r.mrr)} |`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
