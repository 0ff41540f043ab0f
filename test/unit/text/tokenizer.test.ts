import { describe, expect, it } from "vitest";
import { createTokenizer } from "../../../src/text/tokenizer.ts";
import { QUERY_STOPWORDS, STOPWORDS, stripQueryBoilerplate } from "../../../src/text/stopwords.ts";

const tokenizer = createTokenizer();
const words = (text: string): string[] => tokenizer.analyze(text).words;

describe("tokenizer: mixed-script terms", () => {
  it("keeps hyphenated model names whole, in parts and joined", () => {
    expect(words("LLaMA-2")).toEqual(expect.arrayContaining(["llama-2", "llama", "2", "llama2"]));
    expect(words("GPT-4")).toEqual(expect.arrayContaining(["gpt-4", "gpt", "4", "gpt4"]));
    expect(words("ChatGLM-6B")).toEqual(expect.arrayContaining(["chatglm-6b", "chatglm", "6b", "chatglm6b"]));
    expect(words("70B")).toEqual(["70b"]);
    expect(words("GPT-4.0 的 3.5 版本")).toEqual(expect.arrayContaining(["gpt-4.0", "3.5", "版本"]));
  });

  it("lets 'LLaMA 2', 'Llama2' and 'LLaMA-2' share the token llama2", () => {
    for (const spelling of ["LLaMA 2", "Llama2", "LLaMA-2", "ＬＬａＭＡ－２", "介绍一下LLaMA 2模型"]) {
      expect(words(spelling), spelling).toContain("llama2");
    }
    expect(words("GPT 4")).toContain("gpt4");
  });

  it("segments Chinese inside mixed text and lower-cases Latin", () => {
    const w = words("基于Transformer的大语言模型在机器翻译任务上表现出色");
    expect(w).toEqual(expect.arrayContaining(["transformer", "语言", "模型", "机器翻译", "任务"]));
    expect(w).not.toContain("的");
    expect(w.every((t) => t === t.toLowerCase())).toBe(true);
    expect(words("人工智能是一门学科")).toContain("人工智能");
  });

  it("removes Chinese and English stopwords and single Latin letters, keeps single digits", () => {
    const w = words("这是一个关于 the history of AI 的问题 a 2");
    for (const stop of ["这", "是", "一个", "的", "the", "of", "a"]) expect(w).not.toContain(stop);
    expect(w).toEqual(expect.arrayContaining(["history", "ai", "问题", "2"]));
    for (const t of w) expect(STOPWORDS.has(t)).toBe(false);
  });

  it("is deterministic and empty for empty or punctuation-only text", () => {
    expect(tokenizer.analyze("")).toEqual({ words: [], bigrams: [] });
    expect(tokenizer.analyze("，。！？…—")).toEqual({ words: [], bigrams: [] });
    const text = "检索增强生成（RAG）把检索到的段落交给 GPT-4 回答。";
    expect(tokenizer.analyze(text)).toEqual(createTokenizer().analyze(text));
  });
});

describe("tokenizer: bigrams", () => {
  it("builds CJK bigrams over runs of kept words and keeps Latin tokens", () => {
    const { bigrams } = tokenizer.analyze("检索增强 RAG");
    expect(bigrams).toEqual(expect.arrayContaining(["检索", "索增", "增强", "rag"]));
  });

  it("never spans a stopword", () => {
    const { bigrams } = tokenizer.analyze("模型的能力和数据的质量");
    expect(bigrams).toEqual(expect.arrayContaining(["模型", "能力", "数据", "质量"]));
    for (const across of ["型的", "的能", "型能", "力和", "和数", "力数", "据质"]) expect(bigrams).not.toContain(across);
  });

  it("keeps a single kept CJK character as a unigram", () => {
    expect(tokenizer.analyze("很好").bigrams).toEqual(["好"]);
  });
});

describe("tokenizer: queries", () => {
  it("strips templated boilerplate and instruction words from questions only", () => {
    const q = tokenizer.analyzeQuery("请根据提供的上下文信息，解释什么是检索增强生成？");
    expect(q.words).toEqual(expect.arrayContaining(["检索", "增强", "生成"]));
    for (const noise of ["根据", "提供", "上下文", "信息", "解释", "什么"]) expect(q.words).not.toContain(noise);
    // Documents keep those words: they can be the topic there.
    expect(words("上下文信息的长度有限")).toEqual(expect.arrayContaining(["上下文", "信息"]));
  });

  it("strips English boilerplate", () => {
    const q = tokenizer.analyzeQuery("Based on the context, briefly explain what LLaMA 2 is");
    expect(q.words).toEqual(["llama", "2", "llama2"]);
  });

  it("keeps a question that is nothing but boilerplate rather than emptying it", () => {
    expect(stripQueryBoilerplate("根据上下文")).toBe("根据上下文");
    expect(stripQueryBoilerplate("请根据提供的上下文信息，回答：RLHF 是什么？")).toBe("回答：RLHF 是什么？");
    expect(stripQueryBoilerplate("结合以下文档内容，说明 LoRA")).toBe("说明 LoRA");
    expect(stripQueryBoilerplate("What is RLHF?")).toBe("What is RLHF?");
    expect(QUERY_STOPWORDS.has("解释")).toBe(true);
  });
});
