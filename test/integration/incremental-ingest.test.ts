import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedDir } from "../../bench/shared-dir.ts";
import { LOCK_FILE, RebuildBusyError } from "../../src/ingest/rebuild-lock.ts";
import type { IngestSummary } from "../../src/ingest/run-ingest.ts";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { LocalHashEmbeddings } from "../../src/providers/local-embeddings.ts";
import { indexText } from "../../src/store/chunk-record.ts";
import type { KnowledgeIndex } from "../../src/store/knowledge-index.ts";
import { shortId } from "../../src/text/hash.ts";
import { CountingEmbedder } from "../helpers/counting-embedder.ts";
import { runTs } from "../helpers/run-cli.ts";
import { FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * Incremental ingestion against real hnswlib in temp folders. The "new documents" are the nine prompt-engineering
 * chapters from ../shared when it is present, otherwise three small Chinese Markdown files of our own: the assertions
 * are written so that both sets exercise the same paths.
 */
const SHARED = sharedDir();
const NEW_DOCS =
  SHARED && existsSync(join(SHARED, "corpora/prompt-engineering"))
    ? join(SHARED, "corpora/prompt-engineering")
    : join(import.meta.dirname, "../fixtures/new-docs");
const NEW = "new"; // folder inside the docs dir the new documents are copied to

/** Copies a tree and makes it writable: the shared corpora are read-only, and the tests edit and delete files. */
function copyWritable(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const walk = (p: string): void => {
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(to);
}

/** A plain prose line from the middle of a Markdown file (no markup, outside code fences), so it is indexed verbatim. */
function pickParagraph(markdown: string): string {
  let fence = false;
  const candidates: string[] = [];
  for (const line of markdown.split("\n")) {
    if (/^\s{0,3}(```|~~~)/.test(line)) {
      fence = !fence;
      continue;
    }
    const t = line.trim();
    if (!fence && t === line && t.length >= 40 && t.length <= 300 && !/^[#>\-+|\d]/.test(t) && !/[*_`[\]<>|!\\]/.test(t)) candidates.push(t);
  }
  const unique = candidates.filter((c) => markdown.indexOf(c) === markdown.lastIndexOf(c));
  const picked = unique[Math.floor(unique.length / 2)];
  if (!picked) throw new Error("no plain paragraph to edit");
  return picked;
}

function chunkIdsBySource(index: KnowledgeIndex | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of index?.chunks ?? []) out.set(c.source, [...(out.get(c.source) ?? []), c.id]);
  return out;
}

function currentName(storeDir: string): string {
  return readFileSync(join(storeDir, "CURRENT"), "utf8").trim();
}

/**
 * Every live vector in the index must be what embedding its text now would give (same fitted state): a vector reused
 * from an older build for a chunk whose embedded text changed would silently skew dense retrieval.
 */
async function expectVectorsMatchTheirText(index: KnowledgeIndex | undefined): Promise<void> {
  if (!index) throw new Error("no index");
  const fresh = new LocalHashEmbeddings({ dimensions: index.manifest.embeddings.dimensions });
  fresh.importState(index.embedderState);
  const live = index.slots.flatMap((c, label) => (c ? [{ c, label }] : []));
  const vectors = await fresh.embedDocuments(live.map(({ c }) => indexText(c)));
  const stale: string[] = [];
  live.forEach(({ c, label }, i) => {
    const stored = index.hnsw.vector(label);
    const want = vectors[i];
    let dot = 0;
    for (let d = 0; d < stored.length; d++) dot += (stored[d] ?? 0) * (want?.[d] ?? 0);
    if (dot < 0.9999) stale.push(`${c.source} ${c.headings.join(" > ")}`);
  });
  expect(stale).toEqual([]);
}

describe("incremental ingestion of a growing knowledge base (real hnswlib, temp dirs)", () => {
  // Created in beforeAll, not while collecting: a run filtered to other tests must not leave a temp folder behind.
  let ws: ReturnType<typeof tempWorkspace>;
  const counter = new CountingEmbedder();
  const newFiles = readdirSync(NEW_DOCS)
    .filter((f) => f.endsWith(".md"))
    .sort();
  // Roles for the new files; with three or more files they are all different.
  const editFile = `${NEW}/${newFiles[1]}`;
  const renameFrom = `${NEW}/${newFiles[0]}`;
  const renameTo = "renamed/chapter.md";
  const deleteFile = `${NEW}/${newFiles.at(-1)}`;
  let kb: KnowledgeBase;
  let base: IngestSummary;
  let afterAdd: IngestSummary;
  let idsAfterAdd: Map<string, string[]>;
  let docIdsAfterAdd: Map<string, string>;
  const untouched = (source: string) => ![editFile, renameFrom, deleteFile].includes(source);
  const docs = (p: string) => join(ws.docsDir, p);

  beforeAll(async () => {
    ws = tempWorkspace(FIXTURE_CORPUS);
    kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir), { makeEmbedder: () => counter });
    base = await kb.ingest();
  });
  afterAll(() => ws?.cleanup());

  it("the first build is full and embeds every chunk once", () => {
    expect(newFiles.length).toBeGreaterThanOrEqual(3);
    expect(base).toMatchObject({ mode: "full", published: true, files: 3, reused: 0 });
    expect(base.embedded).toBe(base.chunks);
    expect(counter.count).toBe(base.chunks);
  });

  it("adding documents embeds exactly their chunks and counts the other files as unchanged", async () => {
    counter.reset();
    copyWritable(NEW_DOCS, docs(NEW));
    afterAdd = await kb.ingest();
    const added = afterAdd.chunks - base.chunks;
    expect(afterAdd).toMatchObject({
      mode: "incremental",
      published: true,
      filesAdded: newFiles.length,
      filesChanged: 0,
      filesRemoved: 0,
      filesUnchanged: 3,
      removed: 0,
    });
    expect(added).toBeGreaterThan(newFiles.length);
    expect(afterAdd.embedded).toBe(added);
    expect(counter.count).toBe(added);
    // What was embedded is exactly the new documents' chunks, nothing from the files already indexed.
    const newTexts = (kb.index?.chunks ?? []).filter((c) => c.source.startsWith(`${NEW}/`)).map(indexText);
    expect([...counter.embeddedTexts].sort()).toEqual(newTexts.sort());
    expect(kb.listDocuments().map((d) => d.source)).toEqual(expect.arrayContaining(newFiles.map((f) => `${NEW}/${f}`)));
    idsAfterAdd = chunkIdsBySource(kb.index);
    docIdsAfterAdd = new Map(kb.listDocuments().map((d) => [d.source, d.id]));
    await expectVectorsMatchTheirText(kb.index);
  });

  it("with nothing changed, nothing is embedded or written and CURRENT stays", async () => {
    counter.reset();
    const before = currentName(ws.storeDir);
    const entries = readdirSync(ws.storeDir).sort();
    const s = await kb.ingest();
    expect(s).toMatchObject({ published: false, embedded: 0, filesAdded: 0, filesChanged: 0, filesRemoved: 0, buildId: afterAdd.buildId });
    expect(s.filesUnchanged).toBe(3 + newFiles.length);
    expect(counter.count).toBe(0);
    expect(currentName(ws.storeDir)).toBe(before);
    expect(readdirSync(ws.storeDir).sort()).toEqual(entries);
  });

  it("editing one paragraph re-embeds only the chunks it touches; search finds the new text, not the old", async () => {
    const path = docs(editFile);
    const markdown = readFileSync(path, "utf8");
    const old = pickParagraph(markdown);
    expect(kb.index?.chunks.some((c) => c.text.includes(old))).toBe(true);
    const fact = "紫檀鹦鹉协议规定，每一次提示最多只能包含七个示例，这是一条只用于测试的虚构规则。";
    writeFileSync(path, markdown.replace(old, fact));
    counter.reset();
    const s = await kb.ingest();
    expect(s).toMatchObject({ mode: "incremental", published: true, filesChanged: 1, filesAdded: 0, filesRemoved: 0 });
    expect(s.embedded).toBeGreaterThanOrEqual(1);
    expect(s.embedded).toBeLessThanOrEqual(3);
    expect(s.reused).toBeGreaterThan(0);
    expect(counter.count).toBe(s.embedded);
    expect(s.chunks).toBe(afterAdd.chunks - s.removed + s.embedded + s.reused);

    const hits = await kb.search("紫檀鹦鹉协议规定每次提示最多包含几个示例？", 3);
    expect(hits[0]?.source).toBe(editFile);
    expect(hits[0]?.text).toContain("紫檀鹦鹉协议");
    const oldHits = await kb.search(old, 10);
    expect(oldHits.filter((h) => h.text.includes(old))).toEqual([]);
    expect(kb.index?.chunks.some((c) => c.text.includes(old))).toBe(false);
    // The replaced chunks are tombstones now, not rebuilt: the graph keeps every other label where it was.
    expect(kb.index?.slots.some((c) => c === null)).toBe(true);
    await expectVectorsMatchTheirText(kb.index);
  });

  it("renaming a heading re-embeds the chunks under it: vectors are reused only for identical embedded text", async () => {
    const path = docs(editFile);
    const markdown = readFileSync(path, "utf8");
    const heading = markdown.split("\n").find((l) => /^##\s+\S/.test(l));
    if (!heading) throw new Error(`${editFile} has no level-2 heading`);
    writeFileSync(path, markdown.replace(heading, `${heading}（琥珀修订版）`));
    counter.reset();
    const s = await kb.ingest();
    expect(s.filesChanged).toBe(1);
    const under = kb.index?.chunks.filter((c) => c.headings.some((h) => h.includes("琥珀修订版"))) ?? [];
    expect(under.length).toBeGreaterThan(0);
    expect(s.embedded).toBeGreaterThanOrEqual(under.length);
    await expectVectorsMatchTheirText(kb.index);
  });

  it("deleting a file removes it from search and from listDocuments()", async () => {
    const query = pickParagraph(readFileSync(docs(deleteFile), "utf8"));
    expect((await kb.search(query, 5)).some((h) => h.source === deleteFile)).toBe(true);
    const chunksOfFile = kb.index?.chunks.filter((c) => c.source === deleteFile).length ?? 0;
    rmSync(docs(deleteFile));
    counter.reset();
    const s = await kb.ingest();
    expect(s).toMatchObject({ published: true, filesRemoved: 1, filesAdded: 0, filesChanged: 0, embedded: 0, removed: chunksOfFile });
    expect(counter.count).toBe(0);
    expect((await kb.search(query, 10)).filter((h) => h.source === deleteFile)).toEqual([]);
    expect(kb.listDocuments().map((d) => d.source)).not.toContain(deleteFile);
    expect(kb.index?.chunks.some((c) => c.source === deleteFile)).toBe(false);
  });

  it("renaming a Markdown file embeds nothing and search returns the new path", async () => {
    const query = pickParagraph(readFileSync(docs(renameFrom), "utf8"));
    const chunksOfFile = kb.index?.chunks.filter((c) => c.source === renameFrom).length ?? 0;
    mkdirSync(docs("renamed"));
    renameSync(docs(renameFrom), docs(renameTo));
    counter.reset();
    const s = await kb.ingest();
    expect(s).toMatchObject({ published: true, filesAdded: 1, filesRemoved: 1, embedded: 0, reused: chunksOfFile, removed: chunksOfFile });
    expect(counter.count).toBe(0);
    const hits = await kb.search(query, 3);
    expect(hits[0]?.source).toBe(renameTo);
    expect(hits.some((h) => h.source === renameFrom)).toBe(false);
    const docsNow = new Map(kb.listDocuments().map((d) => [d.source, d.id]));
    expect(docsNow.has(renameFrom)).toBe(false);
    expect(docsNow.get(renameTo)).toBe(shortId("doc", renameTo));
    await expectVectorsMatchTheirText(kb.index);
  });

  it("a renamed text file, titled by its file name, is re-embedded because its embedded text changed", async () => {
    const chunksOfFile = kb.index?.chunks.filter((c) => c.source === "sub/notes.txt").length ?? 0;
    expect(chunksOfFile).toBeGreaterThan(0);
    renameSync(docs("sub/notes.txt"), docs("sub/quantization-notes.txt"));
    const s = await kb.ingest();
    expect(s).toMatchObject({ filesAdded: 1, filesRemoved: 1, embedded: chunksOfFile });
    expect(kb.index?.chunks.find((c) => c.source === "sub/quantization-notes.txt")?.title).toBe("quantization-notes");
    await expectVectorsMatchTheirText(kb.index);
  });

  it("chunk ids of unchanged files and doc ids of unchanged paths are stable across incremental and full builds", async () => {
    const now = chunkIdsBySource(kb.index);
    const docIds = new Map(kb.listDocuments().map((d) => [d.source, d.id]));
    for (const [source, ids] of idsAfterAdd) {
      if (!untouched(source) || source === "sub/notes.txt") continue;
      expect(now.get(source), source).toEqual(ids);
      expect(docIds.get(source), source).toBe(docIdsAfterAdd.get(source));
    }
    // The edited file keeps its document id: the id belongs to the path, not the content.
    expect(docIds.get(editFile)).toBe(docIdsAfterAdd.get(editFile));

    const full = await kb.ingest({ full: true });
    expect(full.mode).toBe("full");
    expect(chunkIdsBySource(kb.index)).toEqual(now);
    expect(new Map(kb.listDocuments().map((d) => [d.source, d.id]))).toEqual(docIds);
    expect(kb.index?.slots.every((c) => c !== null)).toBe(true);
  });

  it("deleting most of the chunks compacts the graph (no tombstones left) and search still works", async () => {
    // Make tombstones first, then delete files until more than half the slots would be dead.
    const keep = `${NEW}/${newFiles[2] === newFiles.at(-1) ? newFiles[1] : newFiles[2]}`;
    const editPath = docs(editFile);
    writeFileSync(editPath, `${readFileSync(editPath, "utf8")}\n\n补充说明：这一段只为制造墓碑。\n`);
    await kb.ingest();
    const index = kb.index;
    if (!index) throw new Error("no index");
    const tombstones = index.slots.filter((c) => c === null).length;
    expect(tombstones).toBeGreaterThan(0);
    const bySource = new Map<string, number>();
    for (const c of index.chunks) bySource.set(c.source, (bySource.get(c.source) ?? 0) + 1);
    let dead = tombstones;
    for (const [source, n] of [...bySource].sort((a, b) => b[1] - a[1])) {
      if (dead / index.slots.length > 0.5) break;
      if (source === keep || source === "models.md") continue;
      rmSync(docs(source));
      dead += n;
    }
    expect(dead / index.slots.length).toBeGreaterThan(0.5);

    counter.reset();
    const s = await kb.ingest();
    expect(s).toMatchObject({ published: true, embedded: 0 });
    expect(s.filesRemoved).toBeGreaterThan(0);
    const after = kb.index;
    expect(after?.slots.every((c) => c !== null)).toBe(true);
    expect(after?.slots.length).toBe(s.chunks);
    expect(after?.hnsw.count).toBe(s.chunks);

    const [top] = await kb.search("星河-7B 的上下文长度是多少？", 3);
    expect(top?.source).toBe("models.md");
    const keptQuery = pickParagraph(readFileSync(docs(keep), "utf8"));
    expect((await kb.search(keptQuery, 3))[0]?.source).toBe(keep);
    // And the same from disk, as a server would load it.
    const fresh = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
    await fresh.load();
    expect(fresh.index?.manifest.buildId).toBe(s.buildId);
    expect((await fresh.search(keptQuery, 3))[0]?.source).toBe(keep);
    await expectVectorsMatchTheirText(after);
  });
});

describe("an index that starts empty", () => {
  it("fits the local embedder when the first documents arrive: an empty index has no statistics to keep", async () => {
    const ws = tempWorkspace();
    try {
      mkdirSync(ws.docsDir);
      const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      expect((await kb.ingest()).chunks).toBe(0);
      copyWritable(NEW_DOCS, join(ws.docsDir, NEW));
      const s = await kb.ingest();
      expect(s.embedded).toBe(s.chunks);
      const state = kb.index?.embedderState as { documents: number; idf: Record<string, number> };
      expect(state.documents).toBe(s.chunks);
      expect(Object.keys(state.idf).length).toBeGreaterThan(100);
      // Same vectors as a full build over the same files would give.
      const full = tempWorkspace();
      try {
        copyWritable(NEW_DOCS, join(full.docsDir, NEW));
        const other = await KnowledgeBase.open(testConfig(full.docsDir, full.storeDir));
        await other.ingest();
        expect(other.index?.manifest.embeddings.id).toBe(kb.index?.manifest.embeddings.id);
      } finally {
        full.cleanup();
      }
      await expectVectorsMatchTheirText(kb.index);
    } finally {
      ws.cleanup();
    }
  });
});

describe("manifest checks: settings that change vectors or chunks refuse an incremental build", () => {
  it("a different CHUNK_SIZE is refused with the --full command; --full rebuilds; the lock is released", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      await kb.ingest();
      const before = currentName(ws.storeDir);
      const counter = new CountingEmbedder();
      const resized = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir, { CHUNK_SIZE: "300", CHUNK_OVERLAP: "60" }), {
        makeEmbedder: () => counter,
      });
      await expect(resized.ingest()).rejects.toMatchObject({ code: "INDEX_MISMATCH", message: expect.stringContaining("npm run ingest -- --full") });
      await expect(resized.ingest()).rejects.toThrow(/chunk size 400\/overlap 80.*300\/60/s);
      expect(counter.count).toBe(0);
      expect(currentName(ws.storeDir)).toBe(before);
      expect(existsSync(join(ws.storeDir, LOCK_FILE))).toBe(false);

      const full = await resized.ingest({ full: true });
      expect(full).toMatchObject({ mode: "full", published: true });
      expect(counter.count).toBe(full.chunks);
      expect(resized.index?.manifest.chunker).toMatchObject({ chunkSize: 300, chunkOverlap: 60 });
      // The new manifest matches the new settings: the next incremental build has nothing to do.
      expect((await resized.ingest()).published).toBe(false);
    } finally {
      ws.cleanup();
    }
  });

  it("different embedding dimensions are refused with the --full command; --full rebuilds", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      await (await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir))).ingest();
      const before = currentName(ws.storeDir);
      const counter = new CountingEmbedder({ dimensions: 256 });
      const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir, { EMBEDDINGS_DIMENSIONS: "256" }), { makeEmbedder: () => counter });
      writeFileSync(join(ws.docsDir, "extra.md"), "# 附加\n\n一份新文件，不应在拒绝时被嵌入。\n");
      await expect(kb.ingest()).rejects.toThrow(/dimensions 1024 → 256.*npm run ingest -- --full/s);
      expect(counter.count).toBe(0);
      expect(currentName(ws.storeDir)).toBe(before);
      const full = await kb.ingest({ full: true });
      expect(full.mode).toBe("full");
      expect(kb.index?.manifest.embeddings.dimensions).toBe(256);
      expect((await kb.search("星河-7B 的上下文长度", 1))[0]?.source).toBe("models.md");
    } finally {
      ws.cleanup();
    }
  });
});

describe("one rebuild at a time per store", () => {
  const lockOf = (storeDir: string) => join(storeDir, LOCK_FILE);
  const writeLock = (storeDir: string, pid: number) => {
    mkdirSync(storeDir, { recursive: true });
    writeFileSync(lockOf(storeDir), JSON.stringify({ pid, host: hostname(), startedAt: Date.now() }));
  };

  it("a second concurrent ingest gets RebuildBusyError (REBUILD_IN_PROGRESS, 409); the first publishes", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      // A second knowledge base on the same store stands in for the server while the CLI builds.
      const other = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      const first = kb.ingest();
      const second = other.ingest();
      const third = kb.ingest();
      await expect(second).rejects.toBeInstanceOf(RebuildBusyError);
      await expect(second).rejects.toMatchObject({ code: "REBUILD_IN_PROGRESS", status: 409, message: expect.stringMatching(/already running/) });
      await expect(third).rejects.toMatchObject({ code: "REBUILD_IN_PROGRESS" });
      expect((await first).published).toBe(true);
      expect(existsSync(lockOf(ws.storeDir))).toBe(false);
      // Once the first is done the store is free again.
      expect((await other.ingest()).published).toBe(false);
    } finally {
      ws.cleanup();
    }
  });

  it("a lock held by a live process refuses; a stale lock (dead pid) is taken over and released", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      writeLock(ws.storeDir, process.ppid);
      await expect(kb.ingest()).rejects.toMatchObject({ code: "REBUILD_IN_PROGRESS", status: 409 });
      expect(existsSync(join(ws.storeDir, "CURRENT"))).toBe(false);

      const dead = spawnSync(process.execPath, ["-e", ""]).pid;
      writeLock(ws.storeDir, dead);
      const s = await kb.ingest();
      expect(s.published).toBe(true);
      expect(existsSync(lockOf(ws.storeDir))).toBe(false);
    } finally {
      ws.cleanup();
    }
  });

  it("the CLI prints a clear message and exits 1 while another process rebuilds, and takes over a stale lock", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      const env = { DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir };
      writeLock(ws.storeDir, process.pid);
      const busy = await runTs("src/cli/main.ts", ["ingest"], env);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/REBUILD_IN_PROGRESS.*already running.*process \d+/s);

      writeLock(ws.storeDir, spawnSync(process.execPath, ["-e", ""]).pid);
      const ok = await runTs("src/cli/main.ts", ["ingest"], env);
      // Exit 2: the fixture corpus has one broken PDF; the index is still published.
      expect(ok.code).toBe(2);
      expect(ok.stdout).toMatch(/Full build: 3 files/);
      expect(existsSync(lockOf(ws.storeDir))).toBe(false);
    } finally {
      ws.cleanup();
    }
  });
});
