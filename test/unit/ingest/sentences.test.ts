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

  it("does not end a sentence at the period of an abbreviation", () => {
    expect(splitSentences("See Fig. 3 for details. The model is small.")).toEqual(["See Fig. 3 for details.", " The model is small."]);
    expect(splitSentences("Models, e.g. LLaMA and Vicuna, are open. Others, i.e. GPT-4, are not.")).toEqual([
      "Models, e.g. LLaMA and Vicuna, are open.",
      " Others, i.e. GPT-4, are not.",
    ]);
    expect(splitSentences("GPT-4 vs. Claude 2 is close. Touvron et al. (2023) released LLaMA. Compare cf. Eq. (3) and No. 5.")).toEqual([
      "GPT-4 vs. Claude 2 is close.",
      " Touvron et al. (2023) released LLaMA.",
      " Compare cf. Eq. (3) and No. 5.",
    ]);
    expect(splitSentences("It costs approx. 5 USD. Dr. Smith and Prof. Li met Mr. Wang and Ms. Zhao in the U.S. and the U.K. last year.")).toEqual([
      "It costs approx. 5 USD.",
      " Dr. Smith and Prof. Li met Mr. Wang and Ms. Zhao in the U.S. and the U.K. last year.",
    ]);
    expect(splitSentences("Meeting at 5 p.m. tomorrow, see p. 7. Done.")).toEqual(["Meeting at 5 p.m. tomorrow, see p. 7.", " Done."]);
  });

  it("ends a sentence at an abbreviation that can also end one, when the next word starts a sentence", () => {
    // "etc." goes on only in lower case; "No." before a number is "number", otherwise it can be an answer.
    expect(splitSentences("It supports Python, Java, etc. and many more. It also supports C, Go, etc. The end.")).toEqual([
      "It supports Python, Java, etc. and many more.",
      " It also supports C, Go, etc.",
      " The end.",
    ]);
    expect(splitSentences("Is it free? No. It costs money.")).toEqual(["Is it free?", " No.", " It costs money."]);
  });

  it("keeps initials with the name but ends at a capital that is not an initial", () => {
    expect(splitSentences("The paper by J. Smith and A. Vaswani is cited. It is good.")).toEqual([
      "The paper by J. Smith and A. Vaswani is cited.",
      " It is good.",
    ]);
    expect(splitSentences('- [7] J. Hoffmann, D. de Las Casas, G. van den Driessche, and L. Sifre, "Training compute-optimal models," 2022.')).toHaveLength(1);
    // "540B." is a size, "Plan B." a name: neither is an initial.
    expect(splitSentences("It rivals PaLM 540B. LLaMA 65B is close.")).toEqual(["It rivals PaLM 540B.", " LLaMA 65B is close."]);
    expect(splitSentences("We chose Plan B. The rest failed.")).toEqual(["We chose Plan B.", " The rest failed."]);
  });

  it("keeps a numbered caption with its line", () => {
    // docs-corpus/ai-series-models.md: the caption was cut into "Fig." and " 30 Vicuna fine-tuning strategy".
    const vicuna = "They released a demo and code, weights under non-commercial license following LLaMa.\n\nFig. 30 Vicuna fine-tuning strategy";
    expect(splitSentences(vicuna)).toEqual([
      "They released a demo and code, weights under non-commercial license following LLaMa.",
      "\n\n",
      "Fig. 30 Vicuna fine-tuning strategy",
    ]);
    expect(splitSentences("    Fig. 34 GQA: Training Generalised Multi-Query Transformer Models \\[115\\].\n\n+   LLaMA-2 70B is new.")).toEqual([
      "    Fig. 34 GQA: Training Generalised Multi-Query Transformer Models \\[115\\].",
      "\n\n",
      "+   LLaMA-2 70B is new.",
    ]);
    // A label's own period at the start of a line belongs to the caption; in prose "Figure 2." can end a sentence.
    expect(splitSentences("Figure 2. The architecture of LLaMA.\nNext line.")).toEqual(["Figure 2. The architecture of LLaMA.", "\n", "Next line."]);
    expect(splitSentences("Table 2.\nAccuracy rises.")).toEqual(["Table 2.\n", "Accuracy rises."]);
    expect(splitSentences("as shown in Figure 2. The model then converges.")).toEqual(["as shown in Figure 2.", " The model then converges."]);
    expect(splitSentences("图 3. 模型结构示意\n表 2：评测结果。下一句。")).toEqual(["图 3. 模型结构示意\n", "表 2：评测结果。", "下一句。"]);
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
