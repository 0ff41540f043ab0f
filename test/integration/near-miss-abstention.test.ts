import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstPresent, readNearMiss } from "../../bench/near-miss.ts";
import type { AnswerService } from "../../src/answer/answer-service.ts";
import { createAnswerService } from "../../src/answer/create-answer-service.ts";
import { supportsAnswer } from "../../src/answer/relevance.ts";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { SURVEY_CORPUS, builtKnowledgeBase, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * "Nothing relevant" for questions in the notes' domain about a concept the notes do not contain (near misses), while
 * on-topic questions — including chatty wording with everyday words the notes never use — are still answered.
 * Offline (extractive) answers over docs-corpus. bench/data holds the question sets; `npm run bench:abstain` the numbers.
 */
const DATA = join(import.meta.dirname, "../../bench/data");
const corpusText = readdirSync(SURVEY_CORPUS)
  .filter((f) => f.endsWith(".md"))
  .map((f) => readFileSync(join(SURVEY_CORPUS, f), "utf8"))
  .join("\n");
const nearMiss = readNearMiss(join(DATA, "near-miss-survey.txt"));
const onTopic = readFileSync(join(DATA, "on-topic-survey.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { question: string; contains: string[]; source?: string });
const offTopic = readFileSync(join(DATA, "off-topic.txt"), "utf8").split("\n").filter(Boolean);
const squash = (s: string) => s.replace(/\s+/g, "");

describe("bench data: near-miss questions are about concepts absent from docs-corpus", () => {
  it("has a calibration half and a held-out half", () => {
    expect(nearMiss.calibration.length).toBeGreaterThanOrEqual(20);
    expect(nearMiss.heldOut.length).toBeGreaterThanOrEqual(20);
  });
  for (const { question, absent } of [...nearMiss.calibration, ...nearMiss.heldOut]) {
    it(question, () => {
      expect(absent.length).toBeGreaterThan(0);
      expect(firstPresent(absent, corpusText)).toBeUndefined();
    });
  }
});

const ws = tempWorkspace(SURVEY_CORPUS);
let kb: KnowledgeBase;
let answers: AnswerService;
beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  answers = await createAnswerService(kb, testConfig(ws.docsDir, ws.storeDir));
});
afterAll(() => ws.cleanup());

describe("bench data: on-topic questions", () => {
  it("every expected passage is in the ingested text of its source", () => {
    const chunks = kb.index?.chunks ?? [];
    for (const { question, contains, source } of onTopic) {
      const texts = chunks.filter((c) => !source || c.source === source).map((c) => squash(c.text));
      expect(
        contains.some((c) => texts.some((t) => t.includes(squash(c)))),
        question,
      ).toBe(true);
    }
  });
});

describe("near misses over docs-corpus: nothing relevant", () => {
  // Each of these was answered with unrelated sentences before the never-seen-word check (relevance.ts, rule 2).
  for (const question of [
    "什么是思维链提示？",
    "What is chain-of-thought prompting?",
    "构建知识库时文档应该怎样分块？",
    "张量并行和流水线并行有什么区别？",
    "大模型的函数调用功能是如何实现的？",
    "How can I tell if my fine-tuned model is overfitting?",
    "GPT-5 的参数量是多少",
  ]) {
    it(question, async () => {
      const res = await answers.ask({ question });
      expect(res.found, res.answer).toBe(false);
      expect(res.sources).toEqual([]);
    });
  }
});

describe("on-topic questions over docs-corpus: still answered", () => {
  for (const { q, contains } of [
    { q: "LLaMA 2 的上下文长度是多少？", contains: ["4096", "4k context length"] },
    { q: "Claude 2 的上下文到底有多长？", contains: ["200K"] },
    { q: "Claude 2 和 Claude 1.3 比有啥提升", contains: ["更强的综合能力"] },
    { q: "What license is Mistral 7B under?", contains: ["Apache-2.0", "Apache 2.0"] },
    { q: "GPT-4 支持图片输入吗", contains: [] },
    { q: "文心一言背后是什么模型", contains: [] },
  ]) {
    it(q, async () => {
      const res = await answers.ask({ question: q });
      expect(res.found, res.answer).toBe(true);
      if (contains.length > 0)
        expect(
          contains.some((c) => squash(res.answer).includes(squash(c))),
          res.answer,
        ).toBe(true);
    });
  }
});

describe("the question sets as a whole (the bench's figures, with no slack)", () => {
  const answered = async (questions: string[]) => {
    let n = 0;
    for (const q of questions) if ((await kb.retrieve(q, 5)).some(supportsAnswer)) n++;
    return n;
  };
  it("on-topic survey questions answered", async () => {
    expect(await answered(onTopic.map((q) => q.question))).toBeGreaterThanOrEqual(52);
  });
  it("near-miss survey questions refused", async () => {
    const all = [...nearMiss.calibration, ...nearMiss.heldOut].map((q) => q.question);
    expect(all.length - (await answered(all))).toBeGreaterThanOrEqual(44);
  });
  it("off-topic questions refused", async () => {
    expect(await answered(offTopic)).toBe(0);
  });
});
