import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/config.ts";
import { percentile } from "../src/eval/run-eval.ts";
import type { IngestSummary } from "../src/ingest/run-ingest.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { sharedDir } from "./shared-dir.ts";

/**
 * `npm run bench:rebuild`: what incremental ingestion saves, and whether queries survive rebuilds. On a temp copy of
 * docs-corpus plus the pumpkin book PDF: full rebuild (median of 3), no-change incremental (median of 5) and a
 * one-paragraph edit of one Markdown file (median of 5), each with the chunks it embedded; then 20 back-to-back
 * incremental rebuilds (adding and removing a prompt-engineering chapter) while 4 in-process query loops call
 * kb.search, counting failed queries and results that do not belong to the snapshot the query started on.
 * Uses the product's configuration (env vars apply) and default embedder. Writes bench/results/rebuild.json and the
 * rebuild block of docs/benchmarks.md.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = sharedDir();
if (!shared || !existsSync(join(shared, "bench/pumpkin/pumpkin_book.pdf")) || !existsSync(join(shared, "corpora/prompt-engineering"))) {
  console.log("SKIP: ../shared (the pumpkin book and the prompt-engineering chapters) is not present; set SHARED_DIR to run the benchmark.");
  process.exit(0);
}
const chaptersDir = join(shared, "corpora/prompt-engineering");
const work = mkdtempSync(join(tmpdir(), "kb-rebuild-bench-"));
const docsDir = join(work, "docs");

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

async function timed(kb: KnowledgeBase, full: boolean): Promise<{ seconds: number; summary: IngestSummary }> {
  const t0 = performance.now();
  const summary = await kb.ingest({ full });
  return { seconds: (performance.now() - t0) / 1000, summary };
}

/** A plain prose line (no markup, outside code fences) of a Markdown file: the paragraph the one-file runs edit. */
function plainParagraph(markdown: string): string {
  let fence = false;
  const lines: string[] = [];
  for (const line of markdown.split("\n")) {
    if (/^\s{0,3}(```|~~~)/.test(line)) fence = !fence;
    else if (!fence && line.length >= 60 && !/^[#>\-+|*\d\s]/.test(line) && !/[*_`[\]<>|]/.test(line)) lines.push(line);
  }
  const picked = lines[Math.floor(lines.length / 2)];
  if (!picked) throw new Error("no plain paragraph");
  return picked;
}

try {
  cpSync(join(root, "docs-corpus"), docsDir, { recursive: true });
  copyFileSync(join(shared, "bench/pumpkin/pumpkin_book.pdf"), join(docsDir, "pumpkin_book.pdf"));
  // The sources are read-only; the edits below need writable copies.
  for (const f of readdirSync(docsDir)) chmodSync(join(docsDir, f), 0o644);

  const config = loadConfig({ ...process.env, DOCS_DIR: docsDir, VECTORSTORE_DIR: join(work, "store"), LOG_LEVEL: "silent" });
  const kb = await KnowledgeBase.open(config);

  // 1. Full rebuilds. The first one also warms jieba and the PDF parser; the median absorbs that.
  const fullRuns: { seconds: number; summary: IngestSummary }[] = [];
  for (let i = 0; i < 3; i++) fullRuns.push(await timed(kb, true));
  const fullSeconds = median(fullRuns.map((r) => r.seconds));
  const fullSummary = fullRuns.at(-1)?.summary as IngestSummary;

  // 2. Nothing changed.
  const noChange: { seconds: number; summary: IngestSummary }[] = [];
  for (let i = 0; i < 5; i++) noChange.push(await timed(kb, false));
  if (noChange.some((r) => r.summary.published)) throw new Error("a no-change ingest published a new index");

  // 3. One paragraph of one Markdown file edited (a different edit each run, so every run has work to do).
  const editPath = join(docsDir, "ai-series-models.md");
  const original = readFileSync(editPath, "utf8");
  const paragraph = plainParagraph(original);
  const oneFile: { seconds: number; summary: IngestSummary }[] = [];
  for (let i = 0; i < 5; i++) {
    writeFileSync(editPath, original.replace(paragraph, `${paragraph}（第 ${i + 1} 次修订：补充一句说明。）`));
    oneFile.push(await timed(kb, false));
  }
  if (oneFile.some((r) => r.summary.filesChanged !== 1)) throw new Error("a one-file edit was not seen as one changed file");

  // 4. 20 incremental rebuilds, adding and removing a chapter, under 4 concurrent query loops.
  const chapter = readdirSync(chaptersDir)
    .filter((f) => f.endsWith(".md"))
    .sort()[1] as string;
  const chapterText = readFileSync(join(chaptersDir, chapter));
  const chapterPath = join(docsDir, chapter);
  const versions = new Map<string, Map<string, string>>();
  const remember = () => {
    const index = kb.index;
    if (index) versions.set(index.manifest.buildId, new Map(index.chunks.map((c) => [c.id, c.source])));
  };
  remember();
  const queries = [
    "GLM 系列模型的发展路线",
    "什么是大语言模型的涌现能力？",
    "支持向量机的对偶问题",
    "如何使用分隔符清晰地表示输入的不同部分",
    "In-context learning 和思维链",
    "提示原则 编写清晰、具体的指令",
    "LLaMA 模型的参数规模",
    "决策树的信息增益",
  ];
  let stop = false;
  let building = false;
  const samples: { ms: number; duringBuild: boolean }[] = [];
  const failures: string[] = [];
  const checks: { buildId: string; hits: { id: string; source: string }[] }[] = [];
  const loop = async (offset: number): Promise<void> => {
    // Bounded: a loop ends after this many queries even if the rebuilds stall.
    for (let i = 0; !stop && i < 200_000; i++) {
      const query = queries[(offset + i) % queries.length] ?? "模型";
      // kb.search takes its snapshot synchronously when called: this is the version the query runs on.
      const buildId = kb.index?.manifest.buildId ?? "";
      const t0 = performance.now();
      try {
        const hits = await kb.search(query, 5);
        samples.push({ ms: performance.now() - t0, duringBuild: building });
        checks.push({ buildId, hits: hits.map((h) => ({ id: h.id, source: h.source })) });
      } catch (err) {
        failures.push(String(err));
      }
      // Yield to timers and I/O the way separate HTTP requests would.
      await new Promise((r) => setImmediate(r));
    }
  };
  const loops = [0, 1, 2, 3].map((n) => loop(n * 2));
  const rebuilds: { seconds: number; summary: IngestSummary }[] = [];
  for (let i = 0; i < 20; i++) {
    if (i % 2 === 0) writeFileSync(chapterPath, chapterText);
    else rmSync(chapterPath);
    building = true;
    const run = await timed(kb, false).finally(() => {
      building = false;
    });
    remember();
    rebuilds.push(run);
    await new Promise((r) => setTimeout(r, 20));
  }
  stop = true;
  await Promise.all(loops);

  const inconsistent = checks.filter((c) => {
    const version = versions.get(c.buildId);
    const ids = c.hits.map((h) => h.id);
    return !version || new Set(ids).size !== ids.length || c.hits.some((h) => version.get(h.id) !== h.source);
  }).length;
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b);
  const during = samples.filter((s) => s.duringBuild).length;
  const unpublished = rebuilds.filter((r) => !r.summary.published).length;

  const result = {
    date: new Date().toISOString().slice(0, 10),
    corpus: { files: fullSummary.files, chunks: fullSummary.chunks },
    settings: { chunker: config.chunker, hnsw: config.hnsw, embeddings: kb.status().index.embeddings },
    full: { seconds: fullSeconds, runs: fullRuns.map((r) => r.seconds), embedded: fullSummary.embedded },
    noChange: {
      seconds: median(noChange.map((r) => r.seconds)),
      runs: noChange.map((r) => r.seconds),
      embedded: Math.max(...noChange.map((r) => r.summary.embedded)),
    },
    oneFile: {
      seconds: median(oneFile.map((r) => r.seconds)),
      runs: oneFile.map((r) => r.seconds),
      embedded: oneFile.map((r) => r.summary.embedded),
      reused: oneFile.map((r) => r.summary.reused),
    },
    underLoad: {
      rebuilds: rebuilds.length,
      unpublished,
      chapter,
      rebuildSeconds: { median: median(rebuilds.map((r) => r.seconds)), max: Math.max(...rebuilds.map((r) => r.seconds)) },
      embeddedPerAdd: rebuilds.filter((_, i) => i % 2 === 0).map((r) => r.summary.embedded),
      queries: samples.length + failures.length,
      queriesDuringBuilds: during,
      failed: failures.length,
      inconsistent,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
      firstFailure: failures[0],
    },
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/rebuild.json"), `${JSON.stringify(result, null, 2)}\n`);

  const s = (x: number) => `${x.toFixed(2)} s`;
  const pct = (x: number) => `${((x / result.full.seconds) * 100).toFixed(1)} %`;
  const mark = (ok: boolean) => (ok ? "✓" : "✗");
  const u = result.underLoad;
  const table = [
    `## Rebuild benchmark (${result.date})`,
    "",
    "Command: `npm run bench:rebuild` (2-core machine; medians where repeated).",
    `Corpus: temp copy of docs-corpus + the pumpkin book PDF (${result.corpus.files} files, ${result.corpus.chunks} chunks); embeddings ${result.settings.embeddings.provider}:${result.settings.embeddings.model} (${result.settings.embeddings.dimensions} d), chunk ${result.settings.chunker.chunkSize}/${result.settings.chunker.chunkOverlap}.`,
    "",
    "| measure | value | chunks embedded | target | |",
    "| --- | --- | --- | --- | --- |",
    `| full rebuild (\`--full\`), median of 3 | ${s(result.full.seconds)} | ${result.full.embedded} | | |`,
    `| incremental, nothing changed, median of 5 | ${s(result.noChange.seconds)} (${pct(result.noChange.seconds)} of full) | ${result.noChange.embedded} | ≤ 5 % of full | ${mark(result.noChange.seconds <= result.full.seconds * 0.05)} |`,
    `| incremental, one paragraph of one Markdown file edited, median of 5 | ${s(result.oneFile.seconds)} (${pct(result.oneFile.seconds)} of full) | ${result.oneFile.embedded.join(" / ")} (reused ${result.oneFile.reused[0] ?? 0}) | ≤ 15 % of full | ${mark(result.oneFile.seconds <= result.full.seconds * 0.15)} |`,
    `| 20 incremental rebuilds (add/remove \`${u.chapter}\`) under 4 query loops: rebuild time median / max | ${s(u.rebuildSeconds.median)} / ${s(u.rebuildSeconds.max)} | ${u.embeddedPerAdd[0] ?? 0} per add, 0 per remove | | |`,
    `| same: queries run (answered while a rebuild was running) | ${u.queries} (${u.queriesDuringBuilds}) | | | |`,
    `| same: failed / inconsistent queries | ${u.failed} / ${u.inconsistent} | | 0 / 0 | ${mark(u.failed === 0 && u.inconsistent === 0 && u.unpublished === 0)} |`,
    `| same: query latency p50 / p99 / max | ${u.latencyMs.p50.toFixed(1)} / ${u.latencyMs.p99.toFixed(1)} / ${u.latencyMs.max.toFixed(1)} ms | | | |`,
    "",
    "Inconsistent = a result that is not a chunk (with that source) of the index snapshot the query started on, or a duplicate.",
    "",
    `Reading: a one-paragraph edit embeds ${result.oneFile.embedded[0] ?? 0} chunk(s) and reuses ${result.oneFile.reused[0] ?? 0} vectors; what remains is index work, not embedding: every chunk of the changed file is re-inserted into the HNSW graph (leaving a tombstone), the published index is read and the new one written (fsynced), the new snapshot's BM25 indexes are built and the local embedder's state is imported.`,
    "",
  ].join("\n");
  console.log(table);
  const mdPath = join(root, "docs/benchmarks.md");
  const previous = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : "# Benchmarks\n\n";
  const marker = /<!-- rebuild:start -->[\s\S]*<!-- rebuild:end -->/;
  const block = `<!-- rebuild:start -->\n${table}<!-- rebuild:end -->`;
  writeFileSync(mdPath, marker.test(previous) ? previous.replace(marker, block) : `${previous.trimEnd()}\n\n${block}\n`);
  console.log("Wrote bench/results/rebuild.json and docs/benchmarks.md");
} finally {
  rmSync(work, { recursive: true, force: true });
}
