import { describe, expect, it } from "vitest";
import { jaccard, RRF_K, reciprocalRankFusion } from "../../../src/retrieval/fusion.ts";

describe("reciprocalRankFusion", () => {
  it("puts an item ranked well by several lists above one ranked first by a single list", () => {
    const fused = reciprocalRankFusion([
      { name: "dense", weight: 1, ids: [7, 1, 2] },
      { name: "words", weight: 1, ids: [1, 3] },
      { name: "bigrams", weight: 1, ids: [1, 2] },
    ]);
    expect(fused[0]?.id).toBe(1);
    expect(fused[0]?.ranks).toEqual({ dense: 2, words: 1, bigrams: 1 });
  });

  it("normalises so that first place everywhere scores 1", () => {
    const fused = reciprocalRankFusion([
      { name: "a", weight: 1, ids: [5, 6] },
      { name: "b", weight: 2, ids: [5] },
    ]);
    expect(fused[0]).toMatchObject({ id: 5, score: 1 });
    expect(fused[1]?.score).toBeCloseTo(1 / (RRF_K + 2) / (1 / (RRF_K + 1) + 2 / (RRF_K + 1)), 9);
  });

  it("ignores lists with weight 0 for ranking and breaks ties by id", () => {
    const fused = reciprocalRankFusion([
      { name: "a", weight: 0, ids: [9] },
      { name: "b", weight: 1, ids: [4, 3] },
      { name: "c", weight: 1, ids: [3, 4] },
    ]);
    expect(fused.map((f) => f.id).slice(0, 2)).toEqual([3, 4]);
  });

  it("handles empty input", () => {
    expect(reciprocalRankFusion([])).toEqual([]);
  });
});

describe("jaccard", () => {
  it("measures set overlap", () => {
    expect(jaccard(new Set(["a", "b"]), new Set(["b", "c"]))).toBeCloseTo(1 / 3);
    expect(jaccard(new Set(), new Set())).toBe(1);
    expect(jaccard(new Set(["a"]), new Set())).toBe(0);
  });
});
