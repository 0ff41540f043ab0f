import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { SURVEY_CORPUS, builtKnowledgeBase, tempWorkspace } from "../helpers/temp-kb.ts";

/**
 * The default knowledge base: questions in Chinese and English must find the passage holding the fact in the top 3.
 * `contains` lists the ways the passage may state the fact (any one, compared without spaces).
 */
const CASES: { q: string; contains: string[]; source?: string }[] = [
  { q: "LLaMA 2 的上下文长度是多少？", contains: ["4096", "4k context length"] },
  { q: "What is the context length of LLaMA 2?", contains: ["4096", "4k context length"] },
  { q: "ChatGLM 的参数量是多少", contains: ["62亿参数量"] },
  { q: "ChatGLM 支持多长的上下文？", contains: ["2048"] },
  { q: "LLaMA 3 的发布日期", contains: ["April 18, 2024"] },
  { q: "When was LLaMA 2 released?", contains: ["July 18, 2023", "On 18th July, Meta AI released LLaMA-2"] },
  { q: "GPT-4 是什么时候发布的？", contains: ["2023年3月发布的GPT-4"] },
  { q: "GLM 系列模型的发展路线", contains: ["GLM-130B (Zeng et al., 2022) → ChatGLM-6B"] },
  { q: "What data was Vicuna trained on?", contains: ["ShareGPT"] },
  { q: "Baichuan-7B 的上下文窗口长度", contains: ["4096"] },
  { q: "BloombergGPT has how many parameters?", contains: ["50-billion"] },
  { q: "Claude 2 的上下文窗口有多大？", contains: ["200K"] },
];

const squash = (s: string) => s.replace(/\s+/g, "");

describe("survey corpus: facts in the top 3", () => {
  const ws = tempWorkspace(SURVEY_CORPUS);
  let kb: KnowledgeBase;
  beforeAll(async () => {
    kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  });
  afterAll(() => ws.cleanup());

  for (const c of CASES) {
    it(c.q, async () => {
      const hits = await kb.search(c.q, 3);
      const found = hits.some((h) => c.contains.some((needle) => squash(h.text).includes(squash(needle))));
      expect(found, `top 3 were:\n${hits.map((h) => `${h.source} ${h.headings.join(" > ")}: ${h.text.slice(0, 120)}`).join("\n")}`).toBe(true);
    });
  }
});
