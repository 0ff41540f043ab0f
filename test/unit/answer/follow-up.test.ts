import { describe, expect, it } from "vitest";
import { dependsOnPrevious, followUpQuery, previousUserQuestion } from "../../../src/answer/follow-up.ts";
import type { ChatTurn } from "../../../src/answer/types.ts";

// [question, previous user question]
type Case = [string, string];

describe("dependsOnPrevious: a question that names its own subject stands alone", () => {
  const topicChanges: Case[] = [
    ["What data was Vicuna trained on?", "Who built ChatGLM?"],
    ["文心一言是哪家公司做的？", "LLaMA 的上下文长度是多少？"],
    ["啥是版本空间？", "精度和召回率有什么区别？"],
    ["讯飞星火升级到 V1.5 是哪天？", "PaLM 2 有多少参数？"],
    ["Who makes ERNIE Bot (Wenxin Yiyan)?", "what is Ollama?"],
    ["Falcon 40B 预训练数据大概多少 token？", "文心一言是哪家的？"],
    ["How much VRAM does Stable Diffusion need?", "How big is GPT-3.5?"],
    ["百川的 13B 版本训练了多少 token？", "ChatGLM 是谁做的？"],
  ];
  it.each(topicChanges)("topic change: %s (after %s)", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(false));

  const shortButComplete: Case[] = [
    ["ChatGLM 多大？", "Vicuna 是什么？"],
    ["什么是 RAG？", "ChatGLM 是谁做的？"],
    ["What is LoRA?", "Who made ChatGLM?"],
    ["大模型是什么？", "RAG 是什么？"],
    ["有哪些开源模型？", "Vicuna 是什么？"],
    ["How many parameters does GPT-3 have?", "What is LLaMA?"],
    // An attribute word is the subject of a definition question, not an elided subject.
    ["什么是上下文窗口？", "ChatGLM 是谁做的？"],
    ["What is a context window?", "Who made LLaMA?"],
    ["你是谁？", "RAG 是什么？"],
  ];
  it.each(shortButComplete)("short but complete: %s", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(false));

  const withOwnAntecedent: Case[] = [
    // 这 / that inside a question that has its own subject.
    ["这篇笔记里提到的 Vicuna 用什么数据训练？", "ChatGLM 是谁做的？"],
    ["那篇关于 RAG 的文章讲了什么？", "ChatGLM 是谁做的？"],
    ["What is the paper that introduced Transformers?", "What is BERT?"],
    // A pronoun whose antecedent is in the question itself.
    ["LoRA 和 QLoRA 有什么区别，它们各自适合什么场景？", "什么是微调？"],
    ["What is BM25 and what are its parameters?", "What is RAG?"],
    ["What is attention and how does it work?", "What is RAG?"],
    // Expletive "it".
    ["Is it possible to run LLaMA on a laptop?", "What is Vicuna?"],
    ["How long does it take to fine-tune Alpaca?", "What is Vicuna?"],
  ];
  it.each(withOwnAntecedent)("demonstrative or pronoun with its own antecedent: %s", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(false));

  const completeAfterMarker: Case[] = [
    ["那 ChatGLM 是谁做的？", "Vicuna 是什么？"],
    ["And what data was Vicuna trained on?", "Who built ChatGLM?"],
    ["那 LLaMA 2 的上下文长度呢？", "LLaMA 是谁做的？"],
    ["ChatGLM 的参数量呢？", "Vicuna 是什么？"],
  ];
  it.each(completeAfterMarker)("a marker (那, and, 呢) before a complete question: %s", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(false));

  it("never depends on an empty previous question, and an empty question depends on nothing", () => {
    expect(dependsOnPrevious("它多大？", "")).toBe(false);
    expect(dependsOnPrevious("它多大？", "   ")).toBe(false);
    expect(dependsOnPrevious("", "ChatGLM 多大？")).toBe(false);
    expect(dependsOnPrevious("？", "ChatGLM 多大？")).toBe(false);
  });
});

describe("dependsOnPrevious: a question that cannot be read alone depends on the previous one", () => {
  const pronouns: Case[] = [
    ["它的上下文长度是多少？", "ChatGLM 是谁做的？"],
    ["how much memory does it need?", "What is LLaMA 2?"],
    ["那它参数量多大？", "ChatGLM 是谁做的？"],
    // The pronoun comes first: ChatGPT is what it is compared with, not its antecedent.
    ["那它跟 ChatGPT 比效果咋样？", "Vicuna 是用啥数据训的？"],
    ["它最多能一口气输出多长？", "Claude 2 啥时候发布的？"],
    ["它们有什么区别？", "LoRA 和 QLoRA 是什么？"],
    ["其上下文长度是多少？", "LLaMA 2 是什么？"],
    ["What are they trained on?", "What are Alpaca and Vicuna?"],
    ["When was it released?", "What is Claude 2?"],
    ["What's its context length?", "What is LLaMA?"],
    ["how many tokens was the 13B one trained on?", "Who made Baichuan?"],
    ["Is it open source?", "What is Falcon?"],
    ["can i quantize it?", "What is LLaMA?"],
    ["量化它需要多少显存？", "LLaMA 2 是什么？"],
    ["Summarize it", "What is LLaMA?"],
    ["What is it?", "Tell me about BM25"],
  ];
  it.each(pronouns)("pronoun: %s (after %s)", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(true));

  const demonstratives: Case[] = [
    ["这个模型有多少参数？", "Vicuna 是什么？"],
    ["该模型的上下文长度是多少？", "Vicuna 是什么？"],
    ["这是什么意思？", "什么是困惑度？"],
    ["这样做有什么好处？", "什么是 LoRA？"],
    ["其中哪个最大？", "有哪些开源模型？"],
    ["How big is this model?", "What is Vicuna?"],
    ["What's the license of that one?", "What is Vicuna?"],
    ["What does that mean?", "What is perplexity?"],
    ["Are those open source?", "Which models does the survey list?"],
    ["is that open-source?", "What is Falcon?"],
  ];
  it.each(demonstratives)("demonstrative without a subject of its own: %s", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(true));

  const elidedSubject: Case[] = [
    ["参数量呢？", "ChatGLM 是谁做的？"],
    ["那显存呢？", "ChatGLM-6B 的参数量是多少？"],
    ["多大？", "ChatGLM 是谁做的？"],
    ["谁做的？", "Vicuna 是什么？"],
    ["上下文长度是多少？", "ChatGLM 是谁做的？"],
    ["哪个更好？", "LoRA 和 QLoRA 有什么区别？"],
    ["How many parameters?", "What is GPT-3?"],
    ["What is the context length?", "Who made LLaMA?"],
    ["how about the 70B version?", "How much VRAM does LLaMA 2 7B need?"],
  ];
  it.each(elidedSubject)("elided subject / bare attribute question: %s", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(true));

  const elidedPredicate: Case[] = [
    ["那 LLaMA 2 呢？", "LLaMA 的上下文长度是多少？"],
    ["Vicuna 呢？", "ChatGLM 是谁做的？"],
    ["and PaLM?", "How many parameters does GPT-3 have?"],
    ["and llama 3?", "what's the context length of the original LLaMA?"],
    ["what about Vicuna?", "Who made ChatGLM?"],
    ["那如果用 QLoRA 呢？", "微调 LLaMA 需要多少显存？"],
    ["and what if we use QLoRA?", "How much VRAM does fine-tuning LLaMA need?"],
  ];
  it.each(elidedPredicate)("new subject, predicate left to the previous question: %s", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(true));

  const requests: Case[] = [
    ["还有呢", "RAG 有哪些优点？"],
    ["为什么？", "LoRA 能省显存吗？"],
    ["why?", "Does LoRA save memory?"],
    ["具体点", "RAG 是什么？"],
    ["举个例子", "什么是思维链？"],
    ["能举个例子吗？", "RAG 是什么？"],
    ["more details", "What is RAG?"],
    ["tell me more", "What is RAG?"],
    ["can you give an example?", "What is RAG?"],
  ];
  it.each(requests)("a request about the previous answer: %s", (q, prev) => expect(dependsOnPrevious(q, prev)).toBe(true));
});

describe("followUpQuery", () => {
  it("adds the previous question's subject, not its predicate, to a pronoun or elided-subject follow-up", () => {
    expect(followUpQuery("它的上下文长度是多少？", "ChatGLM 是谁做的？")).toBe("ChatGLM\n它的上下文长度是多少?");
    expect(followUpQuery("how much memory does it need?", "What is LLaMA 2?")).toBe("LLaMA 2\nhow much memory does it need?");
    expect(followUpQuery("参数量呢？", "ChatGLM 是谁做的？")).toBe("ChatGLM\n参数量呢?");
    expect(followUpQuery("how many tokens was the 13B one trained on?", "Who made Baichuan?")).toBe("Baichuan\nhow many tokens was the 13B one trained on?");
    expect(followUpQuery("它们有什么区别？", "LoRA 和 QLoRA 是什么？")).toBe("LoRA QLoRA\n它们有什么区别?");
    // A CJK subject keeps the attribute word glued to it.
    expect(followUpQuery("举个例子？", "啥是版本空间？")).toBe("啥是版本空间?\n举个例子?");
    expect(followUpQuery("它有什么用？", "啥是版本空间？")).toBe("版本空间\n它有什么用?");
  });

  it("replaces the previous subject when the follow-up names a new one and leaves the predicate out", () => {
    expect(followUpQuery("那 LLaMA 2 呢？", "ChatGLM 的上下文长度是多少？")).toBe("的上下文长度是多少?\n那 LLaMA 2 呢?");
    expect(followUpQuery("and llama 3?", "what's the context length of the original LLaMA?")).not.toMatch(/LLaMA\?/);
    expect(followUpQuery("what about Vicuna?", "Who made ChatGLM?")).not.toContain("ChatGLM");
  });

  it("keeps the whole previous question for a request about the answer or a condition on it", () => {
    expect(followUpQuery("为什么？", "LoRA 能省显存吗？")).toBe("LoRA 能省显存吗?\n为什么?");
    expect(followUpQuery("那如果用 QLoRA 呢？", "微调 LLaMA 需要多少显存？")).toBe("微调 LLaMA 需要多少显存?\n那如果用 QLoRA 呢?");
  });

  it("falls back to the whole previous question when it names no subject", () => {
    expect(followUpQuery("多大？", "这个是什么？")).toBe("这个是什么?\n多大?");
  });
});

describe("previousUserQuestion", () => {
  const user = (content: string): ChatTurn => ({ role: "user", content });
  const assistant = (content: string): ChatTurn => ({ role: "assistant", content });

  it("is the last user turn, skipping assistant turns and blank questions", () => {
    expect(previousUserQuestion([user("Who built ChatGLM?"), assistant("Tsinghua and Zhipu AI."), user("  ")])).toBe("Who built ChatGLM?");
    expect(previousUserQuestion([user("Who built ChatGLM?"), user("What data was Vicuna trained on?")])).toBe("What data was Vicuna trained on?");
  });

  it("is undefined without a user turn", () => {
    expect(previousUserQuestion([])).toBeUndefined();
    expect(previousUserQuestion([assistant("Hello")])).toBeUndefined();
  });

  it("reads a previous follow-up together with the question it depended on, so a chain keeps its subject", () => {
    const history = [user("ChatGLM 是谁做的？"), assistant("清华大学和智谱 AI。"), user("它多大？"), assistant("62 亿参数。")];
    const previous = previousUserQuestion(history)!;
    expect(previous).toBe("ChatGLM\n它多大?");
    expect(dependsOnPrevious("上下文长度呢？", previous)).toBe(true);
    expect(followUpQuery("上下文长度呢？", previous)).toBe("ChatGLM\n上下文长度呢?");

    const switched = previousUserQuestion([...history, user("那 Vicuna 呢？"), assistant("Vicuna 是 13B。")])!;
    expect(followUpQuery("它用什么数据训练的？", switched)).toBe("Vicuna\n它用什么数据训练的?");
  });

  it("does not carry an old topic past a question that stands alone", () => {
    const history = [user("ChatGLM 是谁做的？"), user("它多大？"), user("What data was Vicuna trained on?")];
    expect(previousUserQuestion(history)).toBe("What data was Vicuna trained on?");
  });
});
