import { describe, expect, it } from "vitest";
import { coversNovelWords, coversQuestion, MIN_MASS, MIN_SHARE, SHORT_QUESTION_WORDS, supportsAnswer } from "../../../src/answer/relevance.ts";
import { termCoverage, uncoveredWords, unseenWords, writtenWords } from "../../../src/retrieval/coverage.ts";
import type { RetrievedChunk } from "../../../src/retrieval/hybrid-retriever.ts";
import { createTokenizer } from "../../../src/text/tokenizer.ts";

const tokenizer = createTokenizer();
const written = (q: string) => writtenWords(tokenizer.analyzeQuery(q).words);

describe("writtenWords: the question's content words as written", () => {
  it("counts a Latin run once, with its joined spelling, and not its parts", () => {
    expect(written("How can I tell if my fine-tuned model is overfitting?")).toEqual([["fine-tuned", "finetuned"], ["model"], ["overfitting"]]);
    expect(written("GPT-5 的参数量")).toContainEqual(["gpt-5", "gpt5"]);
    expect(written("LLaMA 2 的上下文长度是多少？")).toEqual([["llama2"], ["上下文"], ["长度"]]);
    expect(written("GPT-3.5 和 GPT4 有什么区别")).toEqual([["gpt-3.5", "gpt3.5"], ["gpt4"], ["区别"]]);
  });

  it("leaves out single CJK characters, numbers and versions", () => {
    expect(written("用 LLM 做情感分析效果好吗").flat()).toEqual(["llm", "情感", "效果"]);
    expect(written("2023 年 v2 版本")).toEqual([["版本"]]);
  });
});

describe("unseenWords: specific words the corpus has never seen", () => {
  const corpusWords = new Set(["知识库", "文档", "构建", "上下文", "提示", "思维", "chain", "thought"]);
  const corpusBigrams = new Set(["知识", "识库", "文档", "上下", "下文", "提示", "思维", "流水", "水线"]);
  const seen = { word: (t: string) => corpusWords.has(t), bigram: (b: string) => corpusBigrams.has(b) };
  const unseen = (words: string[][], glossary: Map<string, string[]> = new Map()) => unseenWords(words, seen, glossary).map(([w]) => w);

  it("counts Latin terms and uncommon Chinese words", () => {
    expect(unseen([["overfitting"], ["gpt-5", "gpt5"], ["分块"], ["余弦"], ["知识库"]])).toEqual(["overfitting", "gpt-5", "分块", "余弦"]);
  });

  it("does not count everyday Chinese words, nor words jieba's table does not list", () => {
    // 到底 / 背后 / 图片 are among the ~3 % most common words of general Chinese; 比有 is jieba's on-the-fly merge in 「比有啥」.
    expect(unseen([["到底"], ["背后"], ["图片"], ["分别"], ["比有"]])).toEqual([]);
  });

  it("counts a glossary term the word cut splits (思维链 → 思维 + 链), unless its characters occur together", () => {
    expect(unseen([["思维"], ["提示"]], new Map([["思维链", ["chain", "thought"]]]))).toEqual(["思维链"]);
    expect(unseen([], new Map([["流水线", ["pipeline"]]]))).toEqual([]);
  });

  it("a never-seen word is covered only by a chunk holding a cross-language equivalent", () => {
    const words = [["思维链"], ["overfitting"]];
    const equivalents = new Map([["思维链", ["chain", "thought"]]]);
    expect(uncoveredWords(words, new Set(["提示", "链"]), equivalents)).toEqual(["思维链", "overfitting"]);
    expect(uncoveredWords(words, new Set(["chain", "prompting"]), equivalents)).toEqual(["overfitting"]);
  });
});

describe("relevance: the nothing-relevant rule", () => {
  const chunk = (share: number, mass: number, questionWords: number, uncovered: string[] = []): RetrievedChunk =>
    ({
      signals: {
        coverage: { words: { share, mass }, bigrams: { share: 0, mass: 0 }, novel: { questionWords, uncovered } },
        ranks: {},
      },
    }) as unknown as RetrievedChunk;

  it("rule 1: enough of the question's terms", () => {
    expect(coversQuestion(chunk(MIN_SHARE, 0, 3))).toBe(true);
    expect(coversQuestion(chunk(MIN_SHARE - 0.01, MIN_MASS, 3))).toBe(true);
    expect(coversQuestion(chunk(MIN_SHARE - 0.01, MIN_MASS - 0.01, 3))).toBe(false);
  });

  it("rule 2: a short question's never-seen specific word must be covered, however much else matches", () => {
    expect(supportsAnswer(chunk(0.69, 2.2, 4, ["分块"]))).toBe(false);
    expect(coversNovelWords(chunk(0.69, 2.2, SHORT_QUESTION_WORDS, ["分块"]))).toBe(false);
    expect(supportsAnswer(chunk(0.69, 2.2, 4))).toBe(true);
    // Long questions carry incidental never-seen words (详细描述, 物理意义): rule 1 alone decides.
    expect(supportsAnswer(chunk(0.3, 4, SHORT_QUESTION_WORDS + 1, ["详细描述"]))).toBe(true);
  });

  it("termCoverage is unchanged: unseen terms weigh the highest IDF", () => {
    const idf = (t: string) => (t === "a" ? 1 : 3);
    expect(termCoverage(["a", "b"], new Set(["a"]), idf, 3)).toEqual({ share: 0.25, mass: 1 / 3 });
  });
});
