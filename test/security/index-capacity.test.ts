import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { HnswIndex } from "../../src/store/hnsw-index.ts";
import { builtKnowledgeBase, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * SECURITY-TESTS 21: the vector index never refuses a chunk because it is full. hnswlib has a fixed capacity
 * (initIndex / readIndex keep the old maximum); the wrapper doubles it when it is reached — for a new index, and for
 * one read back from disk by an incremental build that then adds more than it had room for.
 */

const SETTINGS = { M: 8, efConstruction: 50, efSearch: 64 };

/** A deterministic unit vector per label, far enough apart that each is its own nearest neighbour. */
function vectorFor(label: number, dims: number): Float32Array {
  const v = new Float32Array(dims);
  let s = (label + 1) * 2654435761;
  for (let i = 0; i < dims; i++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    v[i] = (s / 0xffffffff) * 2 - 1;
  }
  return v;
}

describe("SECURITY-TESTS 21: the vector index grows when its capacity is reached", () => {
  it("an index created for 1 vector takes 1,000: all are stored and each is found as its own nearest neighbour", () => {
    const dims = 32;
    const index = HnswIndex.create(dims, 1, SETTINGS);
    for (let label = 0; label < 1000; label++) index.add(vectorFor(label, dims), label);
    expect(index.count).toBe(1000);
    for (const label of [0, 1, 15, 16, 17, 31, 32, 33, 511, 512, 999]) {
      expect(index.search(vectorFor(label, dims), 1)[0]?.label, `label ${label}`).toBe(label);
    }
  });

  it("an index read back from disk at full capacity keeps growing, and the grown index is written and read again", () => {
    const ws = tempWorkspace();
    try {
      mkdirSync(ws.root, { recursive: true });
      const dims = 16;
      const file = join(ws.root, "small.hnsw");
      const first = HnswIndex.create(dims, 16, SETTINGS);
      for (let label = 0; label < 16; label++) first.add(vectorFor(label, dims), label);
      first.write(file);
      const again = HnswIndex.read(file, dims, SETTINGS);
      for (let label = 16; label < 100; label++) again.add(vectorFor(label, dims), label);
      expect(again.count).toBe(100);
      again.write(file);
      const reread = HnswIndex.read(file, dims, SETTINGS);
      expect(reread.count).toBe(100);
      expect(reread.search(vectorFor(99, dims), 1)[0]?.label).toBe(99);
      expect(reread.search(vectorFor(3, dims), 1)[0]?.label).toBe(3);
    } finally {
      ws.cleanup();
    }
  });

  it("a knowledge base built from one small file takes 40 more in an incremental build, and every new fact is found", async () => {
    const ws = tempWorkspace();
    try {
      mkdirSync(ws.docsDir, { recursive: true });
      writeFileSync(join(ws.docsDir, "seed.md"), "# 种子\n\n这是最初唯一的一份文档。\n");
      const kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
      expect(kb.status().index.chunks).toBe(1);
      for (let i = 0; i < 40; i++) {
        writeFileSync(
          join(ws.docsDir, `device-${i}.md`),
          `# 设备 D${i}\n\n设备 D${i}-X 的编号是 ${100_000 + i}，位于 ${i} 号机房。\n\n## 维护\n\n设备 D${i}-X 每 ${i + 2} 天维护一次。\n`,
        );
      }
      const summary = await kb.ingest();
      expect(summary.mode).toBe("incremental");
      expect(kb.status().index.chunks).toBeGreaterThan(40);
      for (const i of [0, 17, 39]) {
        const hits = await kb.search(`设备 D${i}-X 的编号`, 3);
        expect(hits.map((h) => h.source)).toContain(`device-${i}.md`);
      }
      // The grown index as written to disk loads in a fresh process-like instance.
      const reopened = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
      expect(await reopened.tryLoad()).toBe(true);
      expect(reopened.status().index.chunks).toBe(kb.status().index.chunks);
    } finally {
      ws.cleanup();
    }
  });
});
