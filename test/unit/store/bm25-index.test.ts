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

describe("Bm25Index matches plain BM25 scoring", () => {
  // Okapi BM25 written out per document, ranked by a full sort: what the index must return, to the last bit.
  function reference(docs: string[][], terms: string[], limit: number, weights?: Map<string, number>) {
    const k1 = 1.2;
    const b = 0.75;
    const live = docs.filter((d) => d.length > 0);
    const avg = live.length ? live.reduce((n, d) => n + d.length, 0) / live.length : 0;
    const qtf = new Map<string, number>();
    for (const t of terms) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    const scored = docs.map((doc, d) => {
      let score = 0;
      for (const [term, q] of qtf) {
        const tf = doc.filter((t) => t === term).length;
        if (tf === 0) continue;
        const df = docs.filter((x) => x.includes(term)).length;
        const idf = Math.log(1 + (live.length - df + 0.5) / (df + 0.5)) * (weights?.get(term) ?? 1);
        score += q * idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / (avg || 1))));
      }
      return { doc: d, score };
    });
    return scored
      .filter((s) => s.score > 0)
      .sort((x, y) => y.score - x.score || x.doc - y.doc)
      .slice(0, limit);
  }

  let seed = 7;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const vocabulary = Array.from({ length: 40 }, (_, i) => `t${i}`);
  // Skewed term frequencies, so scores tie and many documents are touched by one term.
  const word = () => vocabulary[Math.floor(rand() ** 2 * vocabulary.length)] ?? "t0";
  const docs = Array.from({ length: 150 }, (_, d) => (d % 11 === 0 ? [] : Array.from({ length: 1 + Math.floor(rand() * 30) }, word)));
  const index = new Bm25Index(docs);

  it("returns the same documents, order and scores for random queries, limits and weights", () => {
    for (let i = 0; i < 200; i++) {
      const terms = Array.from({ length: 1 + Math.floor(rand() * 6) }, word);
      if (i % 5 === 0) terms.push("unknown");
      const limit = [1, 5, 50, 500][i % 4] ?? 5;
      const weights = i % 3 === 0 ? new Map([[terms[0] ?? "t0", 2]]) : undefined;
      expect(index.search(terms, limit, weights), terms.join(" ")).toEqual(reference(docs, terms, limit, weights));
    }
  });

  it("gives the same results again (its reused buffers start clean), also with a caller's buffer", () => {
    const first = index.search(["t1", "t2"], 20);
    index.search(["t0", "t3", "t5"], 100);
    expect(index.search(["t1", "t2"], 20)).toEqual(first);
    expect(index.search(["t1", "t2"], 20, undefined, new Float64Array(docs.length).fill(9))).toEqual(first);
  });

  it("idf of an unseen term is maxIdf", () => {
    expect(index.idf("unknown")).toBe(index.maxIdf);
  });
});
