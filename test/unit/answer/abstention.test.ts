import { describe, expect, it } from "vitest";
import {
  NO_ANSWER_MARKER,
  NO_ANSWER_SENTENCE,
  detectAbstention,
  firstSentence,
  normalizeSentence,
  stripMarker,
  streamingMarkerFilter,
} from "../../../src/answer/abstention.ts";
import { SYSTEM_PROMPT } from "../../../src/answer/prompts.ts";

const ZH = NO_ANSWER_SENTENCE.zh;
const EN = NO_ANSWER_SENTENCE.en;

describe("detectAbstention: the model found no answer in the sources", () => {
  const abstentions: [string, string][] = [
    ["the fixed form, Chinese", `${NO_ANSWER_MARKER} ${ZH}`],
    ["the fixed form, English", `${NO_ANSWER_MARKER} ${EN}`],
    ["the marker alone", NO_ANSWER_MARKER],
    ["the marker on its own line", `${NO_ANSWER_MARKER}\n\n${EN}`],
    ["the marker without a space", `${NO_ANSWER_MARKER}${ZH}`],
    ["the marker in full-width brackets", `【NO_ANSWER】${ZH}`],
    ["the marker in bold", `**${NO_ANSWER_MARKER}** ${EN}`],
    ["the marker in backticks", `\`${NO_ANSWER_MARKER}\` ${EN}`],
    ["the marker lower-case and spaced", `[ no_answer ] ${EN}`],
    ["the marker escaped for Markdown", `[NO\\_ANSWER] ${ZH}`],
    ["the bare marker word", `NO_ANSWER: ${EN}`],
    ["the marker after the sentence", `${ZH} ${NO_ANSWER_MARKER}`],
    ["the Chinese sentence without the marker", ZH],
    ["the English sentence without the marker", EN],
    ["the Chinese sentence without its full stop", "知识库中没有找到这个问题的答案"],
    ["the Chinese sentence spaced, with a half-width stop", "知识库中 没有找到 这个问题的答案 ."],
    ["the English sentence lower-case, no stop", "the knowledge base does not contain the answer"],
    ["the English sentence with a curly apostrophe and !", "The knowledge base doesn’t contain the answer!"],
    ["the English sentence with an apology", "Sorry, the knowledge base does not contain the answer."],
    ["the Chinese sentence with an apology", `抱歉，${ZH}`],
    ["the fixed sentence and a suggestion, no citation", `${ZH}您可以换个问法再试。`],
    ["a paraphrase: 没有相关信息", "知识库中没有相关信息。"],
    ["a paraphrase: 提供的资料中未包含", "提供的资料中未包含这个问题的答案。"],
    ["a paraphrase: 无法根据资料回答", "根据提供的资料，无法回答这个问题。"],
    ["a paraphrase: 文档中没有提到", "文档中没有提到 Orion-2 的许可证。"],
    ["a paraphrase: could not find", "I couldn't find the answer to this question in the knowledge base."],
    ["a paraphrase: no information about X in the sources", "There is no information about GLM-5 in the provided sources."],
    ["a paraphrase: the sources do not mention", "The provided sources do not mention the price of Orion-2."],
  ];
  for (const [name, text] of abstentions) {
    it(`abstains: ${name}`, () => expect(detectAbstention(text)).toBe(true));
  }

  const answers: [string, string][] = [
    ["a cited answer", "星河-7B 支持 8192 的上下文长度 [1]。"],
    ["a cited negative fact in Chinese (没有)", "星河-7B 没有开源训练数据 [1]。"],
    ["an uncited negative fact in Chinese (不是)", "星河-7B 不是闭源模型。"],
    ["a one-word negative answer", "没有。"],
    ["an uncited negative fact in English (not)", "Orion-2 does not support images."],
    ["a cited 'No' answer", "No, Orion-2 is not open source [1]."],
    ["a partial answer: part missing, facts cited (English)", "The knowledge base does not contain the full answer, but Orion-2 has a 32K context window [1]."],
    ["a partial answer: the fixed sentence, then a cited fact", `${ZH}不过，星河-7B 支持 8192 的上下文长度 [1]。`],
    ["a partial answer: 没有提到 X，只说明了 Y (uncited)", "文档中没有提到价格，只说明它只能通过 API 使用。"],
    ["a partial answer: not specified for one, cited for the other", "The context window is not specified for the 7B model; the 70B has 32K tokens [1]."],
    ["a cited fact with 没有 and 只能", "云帆大模型没有公开参数量，只能通过 API 使用 [1]。"],
    ["the marker, then a cited answer", `${NO_ANSWER_MARKER} Orion-2 has a 32K context window [1].`],
    ["a word that merely contains the marker's letters", "NO_ANSWER_LIST is a constant in the code."],
    ["'documents do not' about something else", "The documents do not need to be converted before upload."],
    ["'no answer' as part of a sentence about something else", "No answer key is shipped with the exam dataset."],
    ["a sentence about the context window", "The context window does not include the output tokens."],
    ["an answer that mentions the knowledge base positively", "The knowledge base contains two open models: 星河-7B and Orion-2 [1]."],
    ["an empty string", ""],
  ];
  for (const [name, text] of answers) {
    it(`answers: ${name}`, () => expect(detectAbstention(text)).toBe(false));
  }
});

describe("the fixed form and its parts", () => {
  it("the system prompt asks for the marker and both fixed sentences, and for partial answers to be answered", () => {
    expect(SYSTEM_PROMPT).toContain(`${NO_ANSWER_MARKER} ${ZH}`);
    expect(SYSTEM_PROMPT).toContain(`${NO_ANSWER_MARKER} ${EN}`);
    expect(SYSTEM_PROMPT).toMatch(/only part of the question, answer that part with citations/);
    // ChatPromptTemplate reads {…} as variables: the prompt must hold none.
    expect(SYSTEM_PROMPT).not.toMatch(/[{}]/);
  });

  it("normalizes punctuation, width, case and spacing", () => {
    expect(normalizeSentence("The knowledge base doesn’t contain the answer!")).toBe("the knowledge base doesn't contain the answer");
    expect(normalizeSentence("知识库中 没有找到关于 GLM-5 的信息 。")).toBe("知识库中没有找到关于glm 5的信息");
    expect(normalizeSentence("ＴＨＥ　ANSWER")).toBe("the answer");
  });

  it("takes the first sentence after an apology, keeping decimals", () => {
    expect(firstSentence("抱歉，知识库中没有相关信息。您可以换个问法。")).toBe("知识库中没有相关信息");
    expect(firstSentence("GLM-4.5 is not covered. More text.")).toBe("GLM-4.5 is not covered");
  });

  it("strips every form of the marker and the spacing after it", () => {
    expect(stripMarker(`${NO_ANSWER_MARKER} ${EN}`)).toBe(EN);
    expect(stripMarker(`**${NO_ANSWER_MARKER}**\n\n${ZH}`)).toBe(ZH);
    expect(stripMarker(`【NO_ANSWER】：${ZH}`)).toBe(ZH);
    expect(stripMarker(`NO_ANSWER ${EN}`)).toBe(EN);
    expect(stripMarker("NO_ANSWER_LIST stays")).toBe("NO_ANSWER_LIST stays");
    expect(stripMarker("星河-7B [1]")).toBe("星河-7B [1]");
  });
});

describe("streamingMarkerFilter: the marker never reaches a client, whatever the token boundaries", () => {
  const run = (pieces: readonly string[]) => {
    const f = streamingMarkerFilter();
    const out = pieces.map((p) => f.push(p));
    out.push(f.flush());
    return { out, joined: out.join(""), sawMarker: f.sawMarker };
  };
  /** Every way of cutting `text` in two, and one piece per character. */
  const splits = (text: string): string[][] => [...Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]), [...text]];

  const withMarker = [
    `${NO_ANSWER_MARKER} ${ZH}`,
    `${NO_ANSWER_MARKER} ${EN}`,
    `**${NO_ANSWER_MARKER}**\n\n${EN}`,
    `【NO_ANSWER】${ZH}`,
    `${EN} ${NO_ANSWER_MARKER}`,
    NO_ANSWER_MARKER,
  ];
  for (const text of withMarker) {
    it(`hides the marker in ${JSON.stringify(text)} for every split`, () => {
      for (const pieces of splits(text)) {
        const { out, joined, sawMarker } = run(pieces);
        expect(sawMarker, JSON.stringify(pieces)).toBe(true);
        expect(joined.trimEnd(), JSON.stringify(pieces)).toBe(stripMarker(text).trimEnd());
        for (const o of out) expect(o, JSON.stringify(pieces)).not.toMatch(/NO_|ANSWER|\[N|【/);
      }
    });
  }

  const withoutMarker = [
    "星河-7B 支持 8192 的上下文长度 [1]。",
    "Orion-2 has **32K** tokens [1][2]. NOTE: Nvidia, NO, N/A.",
    "`code` and [a link](x) and 【注】",
    "",
  ];
  for (const text of withoutMarker) {
    it(`passes ${JSON.stringify(text)} through unchanged for every split`, () => {
      for (const pieces of splits(text)) {
        const { joined, sawMarker } = run(pieces);
        expect(sawMarker).toBe(false);
        expect(joined, JSON.stringify(pieces)).toBe(text);
      }
    });
  }

  it("holds back only while a marker may be starting", () => {
    const f = streamingMarkerFilter();
    expect(f.push("[")).toBe("");
    expect(f.push("NO")).toBe("");
    expect(f.push("_ANSWER]")).toBe("");
    expect(f.push(" ")).toBe("");
    expect(f.push("The")).toBe("The");
    expect(f.push(" knowledge")).toBe(" knowledge");
    const g = streamingMarkerFilter();
    expect(g.push("星河")).toBe("星河");
    expect(g.push(" [")).toBe("");
    expect(g.push("1]")).toBe(" [1]");
  });

  it("a stream that ends inside the marker counts as the marker", () => {
    const { joined, sawMarker } = run(["知识库中没有找到这个问题的答案。", "[NO_ANS"]);
    expect(joined).toBe("知识库中没有找到这个问题的答案。");
    expect(sawMarker).toBe(true);
  });
});
