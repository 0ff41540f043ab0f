import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { LocalHashEmbeddings } from "../../src/providers/local-embeddings.ts";
import { readIndex } from "../../src/store/knowledge-index.ts";
import { FIXTURE_CORPUS, builtKnowledgeBase, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

describe("knowledge base over the fixture corpus (real hnswlib, temp dirs)", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  let kb: KnowledgeBase;
  let summary: Awaited<ReturnType<KnowledgeBase["ingest"]>>;

  beforeAll(async () => {
    kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
    summary = await kb.ingest();
  });
  afterAll(() => ws.cleanup());

  it("ingests every supported file, lists skipped ones and reports the broken one by name", () => {
    expect(summary.files).toBe(3);
    expect(summary.skipped).toEqual(["image.png"]);
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0]?.source).toBe("broken.pdf");
    expect(summary.failed[0]?.error).toMatch(/broken\.pdf/);
    expect(summary.chunks).toBeGreaterThan(3);
  });

  it("publishes one index folder behind CURRENT with a manifest carrying embedder, chunker and file hashes", () => {
    const current = readFileSync(join(ws.storeDir, "CURRENT"), "utf8").trim();
    expect(current).toMatch(/^index-/);
    const manifest = JSON.parse(readFileSync(join(ws.storeDir, current, "manifest.json"), "utf8"));
    expect(manifest.schemaVersion).toBe(1);
    expect(manifest.embeddings).toMatchObject({ provider: "local", dimensions: 1024 });
    expect(manifest.chunker).toMatchObject({ chunkSize: 400, chunkOverlap: 80 });
    expect(Object.keys(manifest.files).sort()).toEqual(["models.md", "page.html", "sub/notes.txt"]);
    expect(manifest.files["models.md"].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(manifest.checksums).sort()).toEqual(["chunks.json", "embedder.json", "hnsw.bin", "lexical.json"]);
  });

  it("finds a Chinese fact with its file, heading path and score", async () => {
    const [top] = await kb.search("星河-7B 的上下文长度是多少？", 3);
    expect(top?.source).toBe("models.md");
    expect(top?.headings).toEqual(["模型速览", "一. 开源模型", "1. 星河系列"]);
    expect(top?.text).toContain("8192");
    expect(top?.score).toBeGreaterThan(0);
    expect(top?.page).toBeUndefined();
  });

  it("keeps mixed-script names whole: Orion-2, 70B", async () => {
    const hits = await kb.search("When was Orion 2 70B released?", 3);
    expect(hits[0]?.text).toMatch(/March 2024/);
  });

  it("keeps HTML table rows readable with rowspan values repeated", async () => {
    const hits = await kb.search("Orion-2 7B context length", 5);
    const table = hits.find((h) => h.text.includes("Parameters: 7B"));
    expect(table?.text).toContain("Context length: 32768");
  });

  it("indexes HTML (title, headings, no script) and text files in subfolders", async () => {
    const html = await kb.search("reciprocal rank fusion", 1);
    expect(html[0]).toMatchObject({ source: "page.html", title: "Glossary page" });
    expect(html[0]?.text).not.toContain("window.bad");
    const txt = await kb.search("量化后的模型需要多少显存", 1);
    expect(txt[0]?.source).toBe("sub/notes.txt");
  });

  it("does not treat a # line inside a code fence as a heading", async () => {
    const hits = await kb.search("云帆大模型 闭源", 1);
    expect(hits[0]?.headings).toEqual(["模型速览", "二. 闭源模型"]);
    expect(hits[0]?.text).toContain("# 这不是标题");
  });

  it("reloads from disk with identical results", async () => {
    const again = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
    await again.load();
    const a = await kb.search("星河 预训练 词元", 5);
    const b = await again.search("星河 预训练 词元", 5);
    expect(b.map((h) => h.id)).toEqual(a.map((h) => h.id));
    expect(again.status().status).toBe("ok");
  });

  it("clamps k to the number of chunks", async () => {
    const hits = await kb.search("模型", 50);
    expect(hits.length).toBeLessThanOrEqual(summary.chunks);
  });
});

describe("index safety", () => {
  it("refuses an index built with other embeddings, naming the command to run", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      await builtKnowledgeBase(ws.docsDir, ws.storeDir);
      const other = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir), { makeEmbedder: () => new LocalHashEmbeddings({ dimensions: 256 }) });
      await expect(other.load()).rejects.toThrow(/dimensions 1024 → 256.*npm run ingest -- --full/s);
      expect(await other.tryLoad()).toBe(false);
      expect(other.status()).toMatchObject({ status: "degraded" });
    } finally {
      ws.cleanup();
    }
  });

  it("reports a truncated docstore as corrupt instead of loading it", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      await builtKnowledgeBase(ws.docsDir, ws.storeDir);
      const current = readFileSync(join(ws.storeDir, "CURRENT"), "utf8").trim();
      const file = join(ws.storeDir, current, "chunks.json");
      writeFileSync(file, readFileSync(file, "utf8").slice(0, 100));
      expect(() => readIndex(ws.storeDir, { efSearch: 64 })).toThrow(/checksum.*npm run ingest -- --full/s);
      const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      expect(await kb.tryLoad()).toBe(false);
      expect(kb.status().message).toMatch(/INDEX|checksum/i);
    } finally {
      ws.cleanup();
    }
  });

  it("ignores and removes the leftovers of a killed build, keeping the published index", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      await builtKnowledgeBase(ws.docsDir, ws.storeDir);
      const before = readFileSync(join(ws.storeDir, "CURRENT"), "utf8").trim();
      mkdirSync(join(ws.storeDir, ".tmp-20260101000000-dead00"));
      writeFileSync(join(ws.storeDir, ".tmp-20260101000000-dead00", "hnsw.bin"), "partial");
      const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      await kb.load();
      expect(kb.index?.dir).toContain(before);
      const summary = await kb.ingest();
      // Nothing changed: the published index stays, the leftover is gone.
      expect(summary.published).toBe(false);
      let entries = readdirSync(ws.storeDir).sort();
      expect(entries.filter((e) => e.startsWith(".tmp-"))).toEqual([]);
      expect(readFileSync(join(ws.storeDir, "CURRENT"), "utf8").trim()).toBe(before);
      // A full rebuild publishes a new version; the one it replaced stays one more round (a server may be loading it
      // right now), and goes with the next build.
      await kb.ingest({ full: true });
      entries = readdirSync(ws.storeDir).sort();
      expect(entries.filter((e) => e.startsWith("index-"))).toHaveLength(2);
      expect(existsSync(join(ws.storeDir, before))).toBe(true);
      await kb.ingest({ full: true });
      entries = readdirSync(ws.storeDir).sort();
      expect(entries.filter((e) => e.startsWith("index-"))).toHaveLength(2);
      expect(existsSync(join(ws.storeDir, before))).toBe(false);
    } finally {
      ws.cleanup();
    }
  });

  it("an empty docs folder gives an empty index that answers with no results", async () => {
    const ws = tempWorkspace();
    try {
      mkdirSync(ws.docsDir);
      const kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
      expect(kb.status().index.chunks).toBe(0);
      expect(await kb.search("anything", 5)).toEqual([]);
    } finally {
      ws.cleanup();
    }
  });

  it("a missing docs folder is a clear error", async () => {
    const ws = tempWorkspace();
    try {
      const kb = await KnowledgeBase.open(testConfig(join(ws.root, "nope"), ws.storeDir));
      await expect(kb.ingest()).rejects.toThrow(/does not exist.*DOCS_DIR/);
    } finally {
      ws.cleanup();
    }
  });
});
