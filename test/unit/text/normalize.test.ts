import { describe, expect, it } from "vitest";
import { hasCjk, nfkcKeepCjkPunctuation, normalizeText, tidyWhitespace } from "../../../src/text/normalize.ts";

describe("normalizeText", () => {
  it("folds full-width letters and digits, and the marks inside numbers and names", () => {
    expect(normalizeText("ＧＰＴ４ ＡＢＣａｂｃ１２３")).toBe("GPT4 ABCabc123");
    expect(normalizeText("ＧＰＴ－４ 提升 ３．５％，Ｉ／Ｏ")).toBe("GPT-4 提升 3.5%，I/O");
  });

  it("keeps full-width Chinese punctuation", () => {
    const punct = "，。！？：；（）、“”‘’《》「」【】";
    expect(normalizeText(`中文${punct}结束`)).toBe(`中文${punct}结束`);
    expect(nfkcKeepCjkPunctuation("你好，ＧＰＴ！（注）")).toBe("你好，GPT！（注）");
  });

  it("folds compatibility ideographs and radicals that PDFs emit", () => {
    expect(normalizeText("⽠果\uF900")).toBe("瓜果豈");
  });

  it("removes control characters and U+FFFD but keeps tab and newline", () => {
    expect(normalizeText("a\u0000b\u0007c\u001Fd\u007Fe\uFFFDf\tg\nh")).toBe("abcdef\tg\nh");
  });

  it("removes lone surrogates and keeps surrogate pairs", () => {
    expect(normalizeText("x\uD800y\uDC00z\uD83D")).toBe("xyz");
    expect(normalizeText("emoji 😀 and 𠀀 stay")).toBe("emoji 😀 and 𠀀 stay");
    expect(normalizeText("\uDC00\uD800")).toBe("");
  });

  it("turns CRLF and CR into LF, and no-break and ideographic spaces into spaces", () => {
    expect(normalizeText("a\r\nb\rc\u00A0d\u3000e")).toBe("a\nb\nc d e");
  });

  it("is idempotent", () => {
    const text = "ＬＬａＭＡ－２ 模型，很好！\r\n\uD800x\u3000";
    expect(normalizeText(normalizeText(text))).toBe(normalizeText(text));
  });
});

describe("tidyWhitespace / hasCjk", () => {
  it("collapses blank-line runs and trailing spaces, keeping paragraph breaks", () => {
    expect(tidyWhitespace("  a  \n\n\n\nb\t\nc  ")).toBe("a\n\nb\nc");
  });

  it("detects CJK ideographs but not CJK punctuation alone", () => {
    expect(hasCjk("GPT-4 模型")).toBe(true);
    expect(hasCjk("GPT-4，")).toBe(false);
  });
});
