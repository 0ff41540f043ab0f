import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AppConfig } from "../../src/config/config.ts";
import { AppError } from "../../src/errors/app-error.ts";
import type { IngestSummary } from "../../src/ingest/run-ingest.ts";
import { KnowledgeBase, type SearchHit } from "../../src/knowledge-base/knowledge-base.ts";
import { CountingEmbedder } from "../helpers/counting-embedder.ts";
import { makePdf } from "../helpers/make-pdf.ts";
import { tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * The IndexStore contract, run through KnowledgeBase (ingest, load, search, reload) with the local embedder over a small
 * corpus of unique facts in Chinese and English: every store must give the same lifecycle and the same answers.
 * `test/contract/<store>.test.ts` runs it against one store each; what differs between stores (where the index lives,
 * how a fresh one is made, what a dead build leaves behind) is the harness.
 */
export interface StoreHarness {
  /** Environment that selects this store for `testConfig` (VECTORSTORE_DIR is always set to the test's folder). */
  env(): Record<string, string>;
  /** Before each test, after the previous test's knowledge bases are closed: make the store empty. */
  reset(storeDir: string): Promise<void>;
  /** What builds that died (or failed) left behind — temp folders, unpublished build rows, stray tables; [] when clean. */
  leftovers(storeDir: string): Promise<string[]>;
  /** Leave behind what a build killed midway leaves (its process is gone, nothing of it was published). */
  plantLeftovers(storeDir: string): Promise<void>;
  /** Traces of a rebuild lock still held (lock file, lease row, advisory lock); [] when every lock is released. */
  lockResidue(storeDir: string): Promise<string[]>;
}

/** Four documents, each fact in exactly one place; the PDF's fact is on page 2 under a numbered heading. */
export const CORPUS: Record<string, string> = {
  "amber-lighthouse.md": [
    "# 琥珀灯塔",
    "",
    "## 历史",
    "",
    "琥珀灯塔建于 1887 年，塔身高 43 米，矗立在青屿岛北端的礁石上。",
    "",
    "## 守塔人",
    "",
    "最后一任守塔人是林秋水，她在 1969 年退休，此后灯塔改为自动运行。",
    "",
  ].join("\n"),
  "cobalt-rail.md": [
    "# Cobalt Rail",
    "",
    "## Route",
    "",
    "The Cobalt Rail line runs 212 kilometres between Varden and Holtby, crossing the Marrow river on the Nine Arches viaduct.",
    "",
    "## Rolling stock",
    "",
    "Its trains are hauled by class 74 Kestrel locomotives, built in Linz in 1998.",
    "",
  ].join("\n"),
  "teahouse.md": [
    "# 雾松茶馆",
    "",
    "## 招牌茶",
    "",
    "雾松茶馆的招牌茶是银针雪芽，每壶售价 38 元。",
    "",
    "## Opening hours",
    "",
    "The Mistpine Teahouse opens at 6:30 every morning and is closed on Tuesdays.",
    "",
  ].join("\n"),
};
export const PDF_SOURCE = "observatory.pdf";
export const PDF_TITLE = "紫藤观测站手册";
export const PDF_PAGES = [
  ["第 1 章 紫藤观测站", "紫藤观测站位于高原之上，由三座圆顶组成。"],
  ["1.1 主镜", "紫藤观测站的主镜口径为 2.4 米，安装在海拔 3200 米处。", "The main mirror was polished in Jena over 14 months."],
];

export interface Fact {
  query: string;
  source: string;
  /** Text the first hit must contain. */
  text: string;
  headings: string[];
  page?: number;
}

export const FACTS: readonly Fact[] = [
  { query: "琥珀灯塔建于哪一年，塔身有多高？", source: "amber-lighthouse.md", text: "1887", headings: ["琥珀灯塔", "历史"] },
  { query: "琥珀灯塔最后一任守塔人是谁？", source: "amber-lighthouse.md", text: "林秋水", headings: ["琥珀灯塔", "守塔人"] },
  { query: "How long is the Cobalt Rail line?", source: "cobalt-rail.md", text: "212 kilometres", headings: ["Cobalt Rail", "Route"] },
  { query: "Where were the Kestrel locomotives built?", source: "cobalt-rail.md", text: "Linz", headings: ["Cobalt Rail", "Rolling stock"] },
  { query: "雾松茶馆的招牌茶是什么？", source: "teahouse.md", text: "银针雪芽", headings: ["雾松茶馆", "招牌茶"] },
  { query: "When does the Mistpine Teahouse open?", source: "teahouse.md", text: "6:30", headings: ["雾松茶馆", "Opening hours"] },
  { query: "紫藤观测站的主镜口径是多少？", source: PDF_SOURCE, text: "2.4 米", headings: ["第 1 章 紫藤观测站", "1.1 主镜"], page: 2 },
  { query: "Where was the main mirror polished?", source: PDF_SOURCE, text: "Jena", headings: ["第 1 章 紫藤观测站", "1.1 主镜"], page: 2 },
];

/** A document added later: two sections, so two new chunks. */
export const ADDED = {
  source: "glacier-ferry.md",
  text: [
    "# Glacier Ferry",
    "",
    "## Timetable",
    "",
    "The Glacier Ferry to Skarv Island leaves pier 9 at 07:15 and the crossing takes 95 minutes.",
    "",
    "## 票价",
    "",
    "冰川渡轮的成人单程票价为 120 克朗，儿童半价。",
    "",
  ].join("\n"),
  facts: [
    { query: "When does the Glacier Ferry to Skarv Island leave?", text: "07:15" },
    { query: "冰川渡轮的成人票价是多少？", text: "120 克朗" },
  ],
};

const CHANGED_ROUTE = "The Cobalt Rail line runs 305 kilometres between Varden and Oskeby, crossing the Marrow river on the Nine Arches viaduct.";

export function writeCorpus(docsDir: string): void {
  mkdirSync(docsDir, { recursive: true });
  for (const [source, text] of Object.entries(CORPUS)) writeFileSync(join(docsDir, source), text);
  writeFileSync(join(docsDir, PDF_SOURCE), makePdf(PDF_PAGES, { title: PDF_TITLE }));
}

/** A counting embedder that throws on its Nth `embedDocuments` call (a provider failing in the middle of a build). */
class FailingEmbedder extends CountingEmbedder {
  failOnCall: number | undefined;

  override async embedDocuments(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.failOnCall !== undefined && this.calls + 1 >= this.failOnCall) {
      this.calls++;
      throw new Error(`embedding provider failed on batch ${this.calls}`);
    }
    return super.embedDocuments(texts, signal);
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    return err as AppError;
  }
  throw new Error("expected a rejection");
}

function topSources(hits: SearchHit[]): string[] {
  return hits.map((h) => h.source);
}

export function defineIndexStoreContract(storeName: string, harness: StoreHarness): void {
  describe(`IndexStore contract: ${storeName}`, () => {
    let ws: ReturnType<typeof tempWorkspace>;
    const opened: KnowledgeBase[] = [];

    beforeEach(async () => {
      ws = tempWorkspace();
      writeCorpus(ws.docsDir);
      await harness.reset(ws.storeDir);
    });

    afterEach(async () => {
      for (const kb of opened.splice(0)) await kb.close();
      ws.cleanup();
    });

    function config(): AppConfig {
      return testConfig(ws.docsDir, ws.storeDir, harness.env());
    }

    /** A knowledge base on the store, as another process would open it: its own store instance (and pool). */
    async function open(embedder = new CountingEmbedder(), cfg: AppConfig = config()): Promise<KnowledgeBase> {
      const kb = await KnowledgeBase.open(cfg, { makeEmbedder: () => embedder });
      opened.push(kb);
      expect(kb.store.kind).toBe(storeName);
      return kb;
    }

    async function built(embedder = new CountingEmbedder()): Promise<{ kb: KnowledgeBase; summary: IngestSummary; embedder: CountingEmbedder }> {
      const kb = await open(embedder);
      const summary = await kb.ingest();
      return { kb, summary, embedder };
    }

    async function expectFactsAnswered(kb: KnowledgeBase, facts: readonly Fact[] = FACTS): Promise<void> {
      for (const f of facts) {
        const [top] = await kb.search(f.query, 5);
        expect(top, f.query).toBeDefined();
        expect({ query: f.query, source: top?.source, hasText: top?.text.includes(f.text) }).toEqual({ query: f.query, source: f.source, hasText: true });
      }
    }

    const docs = (p: string) => join(ws.docsDir, p);

    it("an empty store: no published index, search fails 503 INDEX_NOT_FOUND naming the build command, status degraded", async () => {
      const kb = await open();
      expect(await kb.hasPublishedIndex()).toBe(false);
      expect(await kb.store.publishedVersion()).toBeUndefined();
      const before = await rejection(kb.search("琥珀灯塔", 5));
      expect(before).toBeInstanceOf(AppError);
      expect(before).toMatchObject({ code: "INDEX_NOT_FOUND", status: 503, expose: true });
      expect(before.message).toMatch(/npm run ingest/);
      await expect(kb.load()).rejects.toMatchObject({ code: "INDEX_NOT_FOUND" });
      expect(await kb.tryLoad()).toBe(false);
      const after = await rejection(kb.search("琥珀灯塔", 5));
      expect(after).toMatchObject({ code: "INDEX_NOT_FOUND", status: 503 });
      expect(after.message).toMatch(/npm run ingest/);
      const status = kb.status();
      expect(status.status).toBe("degraded");
      expect(status.message).toMatch(/npm run ingest/);
      expect(status.index).toMatchObject({ documents: 0, chunks: 0, builtAt: null });
      expect(await kb.reloadIfChanged()).toBe(false);
    });

    it("a full build: counts, every fact found first in its own document, citations with source, headings and page", async () => {
      const { kb, summary, embedder } = await built();
      expect(summary).toMatchObject({ mode: "full", published: true, files: 4, chunks: 8, embedded: 8, reused: 0, failed: [], skipped: [] });
      expect(embedder.count).toBe(8);
      expect(await kb.hasPublishedIndex()).toBe(true);
      expect(await kb.store.publishedVersion()).toBe(summary.buildId);
      expect(kb.index?.version).toBe(summary.buildId);
      expect(kb.status()).toMatchObject({ status: "ok", index: { documents: 4, chunks: 8, embeddings: { provider: "local", dimensions: 1024 } } });
      expect(kb.listDocuments().map((d) => [d.source, d.chunks])).toEqual([
        ["amber-lighthouse.md", 2],
        ["cobalt-rail.md", 2],
        [PDF_SOURCE, 2],
        ["teahouse.md", 2],
      ]);
      await expectFactsAnswered(kb);

      // Read back from the store by another knowledge base: the same citations, field by field.
      const reader = await open();
      await reader.load();
      expect(reader.index?.version).toBe(summary.buildId);
      for (const f of FACTS) {
        const [top] = await reader.search(f.query, 3);
        expect(top, f.query).toMatchObject({ source: f.source, headings: f.headings });
        expect(top?.page, f.query).toBe(f.page);
        expect(top?.title).toBe(f.source === PDF_SOURCE ? PDF_TITLE : f.headings[0]);
        expect(top?.score).toBeGreaterThan(0);
        const [again] = await kb.search(f.query, 3);
        expect(again).toEqual(top);
      }
    });

    it("no change: nothing published, the same version", async () => {
      const { kb, summary, embedder } = await built();
      embedder.reset();
      const again = await kb.ingest();
      expect(again).toMatchObject({ published: false, buildId: summary.buildId, embedded: 0, files: 4, chunks: 8 });
      expect(embedder.count).toBe(0);
      expect(await kb.store.publishedVersion()).toBe(summary.buildId);
    });

    it("a file added: its facts found, the others kept, only its chunks embedded", async () => {
      const { kb, summary, embedder } = await built();
      writeFileSync(docs(ADDED.source), ADDED.text);
      embedder.reset();
      const added = await kb.ingest();
      expect(added).toMatchObject({ mode: "incremental", published: true, filesAdded: 1, filesUnchanged: 4, files: 5, chunks: 10, embedded: 2, reused: 0 });
      expect(embedder.count).toBe(2);
      expect(embedder.embeddedTexts.every((t) => t.includes("Glacier Ferry"))).toBe(true);
      expect(added.buildId).not.toBe(summary.buildId);
      expect(await kb.store.publishedVersion()).toBe(added.buildId);
      for (const reader of [kb, await open()]) {
        if (reader !== kb) await reader.load();
        await expectFactsAnswered(reader, [...FACTS, ...ADDED.facts.map((f) => ({ ...f, source: ADDED.source, headings: [] }))]);
      }
    });

    it("a file changed: the old fact gone, the new one found, the unchanged paragraph's vector reused", async () => {
      const { kb, embedder } = await built();
      writeFileSync(docs("cobalt-rail.md"), CORPUS["cobalt-rail.md"]!.replace(/^The Cobalt Rail line runs .*$/m, CHANGED_ROUTE));
      embedder.reset();
      const changed = await kb.ingest();
      expect(changed).toMatchObject({ mode: "incremental", published: true, filesChanged: 1, files: 4, chunks: 8, embedded: 1, reused: 1 });
      expect(embedder.count).toBe(1);
      for (const reader of [kb, await open()]) {
        if (reader !== kb) await reader.load();
        const hits = await reader.search("Cobalt Rail Holtby 212 kilometres", 10);
        expect(hits.some((h) => h.text.includes("Holtby") || h.text.includes("212"))).toBe(false);
        const [top] = await reader.search("How long is the Cobalt Rail line?", 5);
        expect(top?.text).toContain("305 kilometres");
        expect(top?.text).toContain("Oskeby");
        await expectFactsAnswered(
          reader,
          FACTS.filter((f) => f.text !== "212 kilometres"),
        );
      }
    });

    it("a file removed: its facts gone, the others kept", async () => {
      const { kb, embedder } = await built();
      rmSync(docs("teahouse.md"));
      embedder.reset();
      const removed = await kb.ingest();
      expect(removed).toMatchObject({ mode: "incremental", published: true, filesRemoved: 1, files: 3, chunks: 6, embedded: 0, removed: 2 });
      for (const reader of [kb, await open()]) {
        if (reader !== kb) await reader.load();
        for (const q of ["雾松茶馆的招牌茶是什么？", "When does the Mistpine Teahouse open?"]) {
          // Nothing else shares its words: no hits at all is the honest result, and none may come from the removed file.
          const hits = await reader.search(q, 10);
          expect(topSources(hits)).not.toContain("teahouse.md");
        }
        expect(reader.listDocuments().map((d) => d.source)).not.toContain("teahouse.md");
        await expectFactsAnswered(
          reader,
          FACTS.filter((f) => f.source !== "teahouse.md"),
        );
      }
    });

    it("a file renamed: nothing embedded (its vectors are reused), found under its new path", async () => {
      const { kb, embedder } = await built();
      mkdirSync(docs("archive"));
      renameSync(docs("amber-lighthouse.md"), docs("archive/amber-lighthouse.md"));
      embedder.reset();
      const renamed = await kb.ingest();
      expect(renamed).toMatchObject({ published: true, filesAdded: 1, filesRemoved: 1, files: 4, chunks: 8, embedded: 0, reused: 2 });
      expect(embedder.count).toBe(0);
      for (const reader of [kb, await open()]) {
        if (reader !== kb) await reader.load();
        await expectFactsAnswered(
          reader,
          FACTS.map((f) => (f.source === "amber-lighthouse.md" ? { ...f, source: "archive/amber-lighthouse.md" } : f)),
        );
        expect(topSources(await reader.search("琥珀灯塔", 10))).not.toContain("amber-lighthouse.md");
      }
    });

    it("most of the corpus replaced at once: a compacted build (no tombstones) that copies the kept vectors", async () => {
      const { kb, embedder } = await built();
      for (const f of ["amber-lighthouse.md", "cobalt-rail.md", "teahouse.md"]) rmSync(docs(f));
      writeFileSync(docs(ADDED.source), ADDED.text);
      embedder.reset();
      const compacted = await kb.ingest();
      expect(compacted).toMatchObject({ published: true, filesRemoved: 3, filesAdded: 1, filesUnchanged: 1, files: 2, chunks: 4, embedded: 2 });
      expect(embedder.count).toBe(2);
      for (const reader of [kb, await open()]) {
        if (reader !== kb) await reader.load();
        expect(reader.index?.slots.length).toBe(4);
        await expectFactsAnswered(reader, [
          ...FACTS.filter((f) => f.source === PDF_SOURCE),
          ...ADDED.facts.map((f) => ({ ...f, source: ADDED.source, headings: [] })),
        ]);
        expect(topSources(await reader.search("琥珀灯塔 Cobalt Rail 雾松茶馆", 10)).every((s) => s === PDF_SOURCE || s === ADDED.source)).toBe(true);
      }
    });

    it("--full: a new version with the same answers", async () => {
      const { kb, summary, embedder } = await built();
      const before = await Promise.all(FACTS.map((f) => kb.search(f.query, 5)));
      embedder.reset();
      const full = await kb.ingest({ full: true });
      expect(full).toMatchObject({ mode: "full", published: true, files: 4, chunks: 8, embedded: 8 });
      expect(full.buildId).not.toBe(summary.buildId);
      expect(await kb.store.publishedVersion()).toBe(full.buildId);
      const after = await Promise.all(FACTS.map((f) => kb.search(f.query, 5)));
      expect(after.map((hits) => hits.map((h) => [h.id, h.score]))).toEqual(before.map((hits) => hits.map((h) => [h.id, h.score])));
      await expectFactsAnswered(kb);
      // A third version: the first one is cleaned up (only the current one and the one it replaced are kept).
      writeFileSync(docs(ADDED.source), ADDED.text);
      expect((await kb.ingest()).published).toBe(true);
      expect(await harness.leftovers(ws.storeDir)).toEqual([]);
    });

    it("a second knowledge base keeps answering from its version until reloadIfChanged() picks up the new one", async () => {
      const { kb: writer, summary } = await built();
      const replica = await open();
      await replica.load();
      expect(replica.index?.version).toBe(summary.buildId);
      expect(await replica.reloadIfChanged()).toBe(false);

      writeFileSync(docs(ADDED.source), ADDED.text);
      const added = await writer.ingest();
      expect(added.published).toBe(true);

      // Still the old version: the old facts answer, the new document is not there yet.
      expect(replica.index?.version).toBe(summary.buildId);
      await expectFactsAnswered(replica);
      expect(topSources(await replica.search(ADDED.facts[0]!.query, 10))).not.toContain(ADDED.source);

      expect(await replica.reloadIfChanged()).toBe(true);
      expect(replica.index?.version).toBe(added.buildId);
      const [top] = await replica.search(ADDED.facts[0]!.query, 5);
      expect(top).toMatchObject({ source: ADDED.source });
      expect(top?.text).toContain(ADDED.facts[0]!.text);
      await expectFactsAnswered(replica);
      expect(await replica.reloadIfChanged()).toBe(false);
      expect(replica.status().status).toBe("ok");
    });

    it("a second knowledge base keeps answering from its version while a --full rebuild is published", async () => {
      const { kb: writer, summary } = await built();
      const replica = await open();
      await replica.load();
      const full = await writer.ingest({ full: true });
      expect(full.buildId).not.toBe(summary.buildId);
      // The replica has not polled yet: the version it serves must still answer (one older version is kept).
      expect(replica.index?.version).toBe(summary.buildId);
      await expectFactsAnswered(replica);
      expect(await replica.reloadIfChanged()).toBe(true);
      expect(replica.index?.version).toBe(full.buildId);
      await expectFactsAnswered(replica);
    });

    it("two ingests at once on the same store: one publishes, the other fails 409 REBUILD_IN_PROGRESS; the lock is released", async () => {
      // Slow batches, so the first build is surely still running when the second asks for the lock.
      const a = await open(new CountingEmbedder({ delayMsPerBatch: 150 }));
      const b = await open(new CountingEmbedder({ delayMsPerBatch: 150 }));
      const results = await Promise.allSettled([a.ingest(), b.ingest()]);
      const ok = results.filter((r): r is PromiseFulfilledResult<IngestSummary> => r.status === "fulfilled");
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(1);
      expect(failed[0]?.reason).toBeInstanceOf(AppError);
      expect(failed[0]?.reason).toMatchObject({ code: "REBUILD_IN_PROGRESS", status: 409, expose: true });
      expect(ok[0]?.value).toMatchObject({ published: true, files: 4 });
      expect(await a.store.publishedVersion()).toBe(ok[0]?.value.buildId);
      expect(await harness.lockResidue(ws.storeDir)).toEqual([]);

      // Released: the loser (and the winner) can build again.
      const loser = results[0]?.status === "rejected" ? a : b;
      writeFileSync(docs(ADDED.source), ADDED.text);
      const next = await loser.ingest();
      expect(next).toMatchObject({ published: true, files: 5 });
      await expectFactsAnswered(loser);
      const winner = loser === a ? b : a;
      expect(await winner.reloadIfChanged()).toBe(true);
      expect(await harness.lockResidue(ws.storeDir)).toEqual([]);
    });

    it("a build that fails midway publishes nothing: the previous version keeps answering; the next build succeeds and leaves nothing behind", async () => {
      const failing = new FailingEmbedder();
      // Batches of 2 chunks, so a full build of 8 chunks embeds in 4 batches and the 2nd one throws. The local embedder
      // has no EMBEDDINGS_BATCH_SIZE; KnowledgeBase passes `batchSize` whenever the embeddings config carries one.
      const cfg = config();
      const small = { ...cfg, embeddings: { ...cfg.embeddings, batchSize: 2 } as AppConfig["embeddings"] };
      const kb = await open(failing, small);
      const base = await kb.ingest();
      expect(failing.calls).toBe(4);

      writeFileSync(docs(ADDED.source), ADDED.text);
      failing.reset();
      failing.failOnCall = 2;
      await expect(kb.ingest({ full: true })).rejects.toThrow(/embedding provider failed on batch 2/);
      expect(failing.calls).toBe(2);
      expect(await kb.store.publishedVersion()).toBe(base.buildId);
      expect(kb.index?.version).toBe(base.buildId);
      await expectFactsAnswered(kb);
      expect(await harness.lockResidue(ws.storeDir)).toEqual([]);
      // Another process loading now gets the old version too.
      const reader = await open();
      await reader.load();
      expect(reader.index?.version).toBe(base.buildId);
      expect(topSources(await reader.search(ADDED.facts[0]!.query, 10))).not.toContain(ADDED.source);
      await expectFactsAnswered(reader);

      failing.failOnCall = undefined;
      const next = await kb.ingest();
      expect(next).toMatchObject({ published: true, filesAdded: 1, files: 5 });
      expect(await harness.leftovers(ws.storeDir)).toEqual([]);
      expect(await harness.lockResidue(ws.storeDir)).toEqual([]);
      expect(await reader.reloadIfChanged()).toBe(true);
      const [top] = await reader.search(ADDED.facts[1]!.query, 5);
      expect(top?.source).toBe(ADDED.source);
    });

    it("what a killed build left behind is never published and is removed by the next build", async () => {
      const { kb, summary } = await built();
      await harness.plantLeftovers(ws.storeDir);
      expect((await harness.leftovers(ws.storeDir)).length).toBeGreaterThan(0);
      expect(await kb.store.publishedVersion()).toBe(summary.buildId);
      const reader = await open();
      await reader.load();
      expect(reader.index?.version).toBe(summary.buildId);
      await expectFactsAnswered(reader);

      // Even a build with nothing to do clears them (under the lock, before anything else).
      const again = await kb.ingest();
      expect(again.published).toBe(false);
      expect(await harness.leftovers(ws.storeDir)).toEqual([]);
      writeFileSync(docs(ADDED.source), ADDED.text);
      expect((await kb.ingest()).published).toBe(true);
      expect(await harness.leftovers(ws.storeDir)).toEqual([]);
      await expectFactsAnswered(kb);
    });
  });
}
