import { describe, expect, it } from "vitest";
import { splitLong, splitSentences } from "../../../src/ingest/sentences.ts";

describe("splitSentences", () => {
  it("splits after 。！？； and keeps closing quotes and brackets with the sentence", () => {
    expect(splitSentences("第一句。第二句！第三句？第四句；他说：“好。”（见上文。）最后")).toEqual([
      "第一句。",
      "第二句！",
      "第三句？",
      "第四句；",
      "他说：“好。”",
      "（见上文。）",
      "最后",
    ]);
  });

  it("splits at '. ', '! ', '? ' and a line break, but not inside numbers and versions", () => {
    expect(splitSentences("GPT-4.0 scores 3.5 points. LLaMA 2 is open! Really? Yes.\nNext line 1.5.2 stays")).toEqual([
      "GPT-4.0 scores 3.5 points.",
      " LLaMA 2 is open!",
      " Really?",
      " Yes.",
      "\n",
      "Next line 1.5.2 stays",
    ]);
    expect(splitSentences("模型 v1.5 的准确率为 98.6%，提升了 3.5 个百分点")).toHaveLength(1);
  });

  it("is lossless: the pieces concatenate back to the input", () => {
    const text = "  混合 text。With English. 以及\n\n换行！！ End?  ";
    expect(splitSentences(text).join("")).toBe(text);
    expect(splitSentences("")).toEqual([]);
  });
});

describe("splitLong", () => {
  it("leaves a sentence that fits alone", () => {
    expect(splitLong("短句。", 10)).toEqual(["短句。"]);
  });

  it("cuts an over-long sentence at clause marks, each part within the limit", () => {
    const sentence = "大语言模型在许多任务上表现出色，包括问答、翻译、摘要和代码生成，但也存在幻觉问题，需要检索增强来缓解";
    const parts = splitLong(sentence, 20);
    expect(parts.join("")).toBe(sentence);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(20);
    for (const p of parts.slice(0, -1)) expect(p).toMatch(/[，、]$/);
  });

  it("falls back to spaces, then a hard cut", () => {
    const words = "alpha beta gamma delta epsilon zeta eta theta";
    const parts = splitLong(words, 12);
    expect(parts.join("")).toBe(words);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(12);
    expect(parts[0]).toBe("alpha beta ");
    expect(splitLong("一".repeat(25), 10)).toEqual(["一".repeat(10), "一".repeat(10), "一".repeat(5)]);
  });
});
