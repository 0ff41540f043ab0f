import { describe, expect, it } from "vitest";
import { Bm25Index } from "../../../src/store/bm25-index.ts";

describe("Bm25Index", () => {
  const docs = [["llama2", "上下文", "长度", "4096"], ["chatglm", "参数", "62"], ["llama2", "llama2", "发布"], []];
  const index = new Bm25Index(docs);

  it("ranks documents holding the rarer query terms first", () => {
    const hits = index.search(["上下文", "llama2"], 10);
    expect(hits[0]?.doc).toBe(0);
    expect(hits.map((h) => h.doc).sort()).toEqual([0, 2]);
  });

  it("returns nothing for unknown terms or an empty query, and never the empty document", () => {
    expect(index.search(["nothing"], 5)).toEqual([]);
    expect(index.search([], 5)).toEqual([]);
    expect(index.search(["llama2"], 10).some((h) => h.doc === 3)).toBe(false);
  });

  it("gives rarer terms a higher idf", () => {
    expect(index.idf("chatglm")).toBeGreaterThan(index.idf("llama2"));
  });

  it("scales a term by its weight", () => {
    const plain = index.search(["参数"], 1)[0]?.score ?? 0;
    const weighted = index.search(["参数"], 1, new Map([["参数", 0.5]]))[0]?.score ?? 0;
    expect(weighted).toBeCloseTo(plain / 2, 6);
  });

  it("limits and orders deterministically", () => {
    const hits = index.search(["llama2", "参数"], 2);
    expect(hits).toHaveLength(2);
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
  });

  it("handles an empty corpus", () => {
    expect(new Bm25Index([]).search(["x"], 3)).toEqual([]);
  });
});
