import { describe, expect, it } from "vitest";
import { summarise } from "../../../src/eval/metrics.ts";
import { isHit, parseQaFile } from "../../../src/eval/qa-file.ts";
import { percentile } from "../../../src/eval/run-eval.ts";

describe("question files", () => {
  it("parses page, source and contains expectations, numbering ids when absent", () => {
    const items = parseQaFile('{"id":"p1","question":"q","page":3}\n\n{"question":"r","source":"a.md","contains":["x","y"]}\n');
    expect(items).toEqual([
      { id: "p1", question: "q", page: 3 },
      { id: "q3", question: "r", source: "a.md", contains: ["x", "y"] },
    ]);
  });

  it("names every bad line", () => {
    expect(() => parseQaFile('{"question":"q"}\nnot json\n{"page":2}')).toThrow(
      /line 1: .*needs at least one.*\n.*line 2: not valid JSON.*\n.*line 3: question/s,
    );
    expect(() => parseQaFile("\n")).toThrow(/no questions/);
  });

  it("matches chunks on every given expectation", () => {
    const chunk = { source: "docs/a.md", page: 4, text: "LLaMA 2 的上下文\n长度是 4096" };
    expect(isHit({ id: "1", question: "q", page: 4 }, chunk)).toBe(true);
    expect(isHit({ id: "1", question: "q", page: 5 }, chunk)).toBe(false);
    expect(isHit({ id: "1", question: "q", source: "a.md", contains: "上下文长度" }, chunk)).toBe(true);
    expect(isHit({ id: "1", question: "q", source: "b.md" }, chunk)).toBe(false);
    expect(isHit({ id: "1", question: "q", contains: ["llama 2", "4096"] }, chunk)).toBe(true);
    expect(isHit({ id: "1", question: "q", contains: ["8192"] }, chunk)).toBe(false);
  });
});

describe("metrics", () => {
  it("computes hit@k and MRR from first-hit ranks", () => {
    const r = summarise([1, 2, null, 5], [1, 3, 5]);
    expect(r.hitAt).toEqual({ "1": 0.25, "3": 0.5, "5": 0.75 });
    expect(r.mrr).toBeCloseTo((1 + 0.5 + 0 + 0.2) / 4);
    expect(r.depth).toBe(5);
  });

  it("percentile uses nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([], 50)).toBe(0);
  });
});
