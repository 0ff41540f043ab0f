import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanHeading, exampleQuestions, toQuestion } from "../../../server/routes/examples-route.ts";
import type { DocumentHeadings } from "../../../src/knowledge-base/knowledge-base.ts";
import { serveApp } from "../../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../../helpers/temp-kb.ts";

describe("cleanHeading", () => {
  const cases: [string, string][] = [
    ["2. GLM 系列", "GLM 系列"],
    ["二、开源 LLM", "开源 LLM"],
    ["二. 开源 LLM", "开源 LLM"],
    ["1.1.Text", "Text"],
    ["第二章 模型", "模型"],
    ["(3) Retrieval", "Retrieval"],
    ["IV. Fusion", "Fusion"],
    ["GLM Series (Zhipu AI & Tsinghua University )", "GLM Series"],
    ["闭源 LLM（未公开源代码）", "闭源 LLM"],
    // Names that start with a number keep it.
    ["3D Models", "3D Models"],
    ["2.7B parameters", "2.7B parameters"],
    ["  GPT-4  ", "GPT-4"],
  ];
  for (const [heading, cleaned] of cases) {
    it(`${JSON.stringify(heading)} → ${JSON.stringify(cleaned)}`, () => expect(cleanHeading(heading)).toBe(cleaned));
  }
});

describe("exampleQuestions", () => {
  const doc = (source: string, title: string, paths: string[][]): DocumentHeadings => ({ source, title, paths });

  it("asks in Chinese about Chinese topics and in English about English ones", () => {
    expect(toQuestion("GLM 系列")).toBe("介绍一下 GLM 系列");
    expect(toQuestion("PaLM-2")).toBe("What is PaLM-2?");
  });

  it("takes one topic from each of different documents first, preferring named second-level headings", () => {
    const docs = [
      doc("a.md", "常见大模型", [
        ["一. 闭源 LLM", "1. GPT系列"],
        ["二. 开源 LLM", "2. GLM 系列"],
      ]),
      doc("b.md", "Models", [["1.Proprietary Models", "1.1.Text", "PaLM-2"]]),
      doc("c.md", "Lecture", [["Introduction"], ["History of LLM", "Evolution of LLaMA"], ["LLM in Vision", "VisionLLM"]]),
    ];
    // Generic sections ("Text", "Introduction") and English phrases ("Evolution of LLaMA") are passed over.
    expect(exampleQuestions(docs)).toEqual(["介绍一下 GPT系列", "What is PaLM-2?", "What is VisionLLM?", "介绍一下 GLM 系列"]);
  });

  it("is deterministic, stops at the limit and skips duplicates across documents", () => {
    const docs = [
      doc("a.md", "A", [
        ["x", "ChatGPT"],
        ["x", "Claude系列"],
      ]),
      doc("b.md", "B", [
        ["y", "chatgpt"],
        ["y", "GPT-4"],
      ]),
    ];
    expect(exampleQuestions(docs)).toEqual(exampleQuestions(docs));
    expect(exampleQuestions(docs)).toEqual(["What is ChatGPT?", "What is GPT-4?", "介绍一下 Claude系列"]);
    expect(exampleQuestions(docs, 2)).toHaveLength(2);
  });

  it("falls back to titles, and gives nothing for an empty index", () => {
    expect(exampleQuestions([doc("notes.txt", "部署说明", [])])).toEqual(["介绍一下 部署说明"]);
    expect(exampleQuestions([])).toEqual([]);
  });

  it("never uses sentences or overly long headings", () => {
    const docs = [
      doc("a.md", "一个很长很长很长很长很长很长很长很长的标题", [
        ["x", "Who is best?"],
        ["x", "Model, Agent and Product"],
        ["x", "計算記憶體的成長與Transformer大小的關係"],
      ]),
    ];
    expect(exampleQuestions(docs)).toEqual([]);
  });
});

describe("GET /examples", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  const empty = tempWorkspace();
  let http: Awaited<ReturnType<typeof serveApp>>;
  let emptyHttp: Awaited<ReturnType<typeof serveApp>>;

  beforeAll(async () => {
    http = await serveApp(testConfig(ws.docsDir, ws.storeDir), await builtKnowledgeBase(ws.docsDir, ws.storeDir));
    mkdirSync(empty.docsDir, { recursive: true });
    emptyHttp = await serveApp(testConfig(empty.docsDir, empty.storeDir), await builtKnowledgeBase(empty.docsDir, empty.storeDir));
  });
  afterAll(async () => {
    await Promise.all([http?.close(), emptyHttp?.close()]);
    ws.cleanup();
    empty.cleanup();
  });

  it("returns up to 4 questions made from the index's headings", async () => {
    const res = await fetch(`${http.url}/examples`);
    expect(res.status).toBe(200);
    const { examples } = (await res.json()) as { examples: string[] };
    expect(examples.length).toBeGreaterThan(0);
    expect(examples.length).toBeLessThanOrEqual(4);
    expect(examples[0]).toBe("介绍一下 星河系列");
    expect(examples).toContain("What is Orion-2?");
  });

  it("returns an empty list for an empty index", async () => {
    const res = await fetch(`${emptyHttp.url}/examples`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ examples: [] });
  });
});
