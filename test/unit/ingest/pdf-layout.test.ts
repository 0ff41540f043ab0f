import { describe, expect, it } from "vitest";
import { findRunningLines, joinLines, pagesToSections } from "../../../src/ingest/loaders/pdf-layout.ts";

describe("joinLines", () => {
  it("joins CJK lines without a space and anything else with one", () => {
    expect(joinLines(["线性回归试图学得一个线性模", "型。Then English", "continues here，", "中文"])).toBe(
      "线性回归试图学得一个线性模型。Then English continues here，中文",
    );
    expect(joinLines(["", "  a  ", " "])).toBe("a");
  });
});

describe("findRunningLines", () => {
  it("finds lines repeated at page edges on enough pages, ignoring the digits in them", () => {
    const pages = [1, 2, 3, 4].map((n) => [`报告 2024 第 ${n} 期`, "正文", `正文 ${n}`, `页脚 ${n}`]);
    const running = findRunningLines(pages);
    expect(running.has("报告 # 第 # 期")).toBe(true);
    expect(running.has("页脚 #")).toBe(true);
  });

  it("needs at least three pages before calling a line running", () => {
    expect(
      findRunningLines([
        ["标题", "a"],
        ["标题", "b"],
      ]).size,
    ).toBe(0);
  });
});

describe("pagesToSections", () => {
  it("reads full-width heading numbers once they are folded (「３．２ 线性回归」)", () => {
    const sections = pagesToSections(["第３章　线性模型\n３．２　线性回归\n正文。"]);
    expect(sections.at(-1)?.headings).toEqual(["第3章 线性模型", "3.2 线性回归"]);
  });

  it("removes pdf.js tab gaps between CJK characters and keeps them as spaces in Latin text", () => {
    expect(pagesToSections(["机器\t学习\tand\tdeep learning"])[0]?.text).toBe("机器学习 and deep learning");
  });

  it("drops running lines only at page edges, not in the middle of a page", () => {
    const bodies = ["甲", "乙", "丙"];
    const pages = bodies.map((b, n) => `内部资料\n${b}开头。\n内部资料\n${b}中间。\n- ${n + 1} -`);
    const sections = pagesToSections(pages);
    // The third line is inside the page body (neither among the first two nor the last two lines): it stays.
    expect(sections.map((s) => s.text)).toEqual(bodies.map((b) => `${b}开头。内部资料${b}中间。`));
  });

  it("pops to the right level: a chapter clears sections, an appendix is top level", () => {
    const sections = pagesToSections(["第 1 章 引言\n一。\n1.1 动机\n二。\n1.1.1 细节\n三。\n1.2 目标\n四。\n附录 A 数据\n五。"]);
    expect(sections.map((s) => s.headings)).toEqual([
      ["第 1 章 引言"],
      ["第 1 章 引言", "1.1 动机"],
      ["第 1 章 引言", "1.1 动机", "1.1.1 细节"],
      ["第 1 章 引言", "1.2 目标"],
      ["附录 A 数据"],
    ]);
  });
});
