import { describe, expect, it } from "vitest";
import { highlightRanges } from "../../../server/public/src/highlight-ranges.ts";

const marked = (snippet: string, question: string): string[] => highlightRanges(snippet, question).map(([a, b]) => snippet.slice(a, b));

describe("highlightRanges", () => {
  it("marks maximal Chinese substrings (2+ characters) shared with the question", () => {
    expect(marked("星河-7B 支持 8192 的上下文长度，参数量为 70 亿。", "星河-7B 的上下文长度是多少？")).toEqual(["星河-7B", "的上下文长度"]);
  });

  it("does not mark single shared characters", () => {
    expect(marked("它的参数", "我的书")).toEqual([]);
  });

  it("marks Latin words case-insensitively on word boundaries, without stop words", () => {
    expect(marked("Vicuna was trained on ShareGPT data; vicunas differ.", "What data was VICUNA trained on?")).toEqual(["Vicuna", "trained", "data"]);
  });

  it("merges overlapping and touching matches and keeps them in order", () => {
    expect(highlightRanges("GPT-4 模型上下文", "GPT-4 的模型上下文多长")).toEqual([
      [0, 5],
      [6, 11],
    ]);
  });

  it("returns nothing for an empty question or snippet", () => {
    expect(highlightRanges("", "问题")).toEqual([]);
    expect(highlightRanges("片段", "")).toEqual([]);
  });
});
