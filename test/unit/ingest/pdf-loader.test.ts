import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { ParsedDocument } from "../../../src/ingest/document.ts";
import { pdfLoader } from "../../../src/ingest/loaders/pdf-loader.ts";
import { ParseError } from "../../../src/errors/app-error.ts";
import { makeBrokenPdfs, makePdf } from "../../helpers/make-pdf.ts";
import { SAMPLE_ZH_HEADER, SAMPLE_ZH_PDF_PATH, SAMPLE_ZH_TITLE } from "../../helpers/write-fixtures.ts";

const CJK = /[\u4e00-\u9fff]/;

describe("pdfLoader on the committed Chinese fixture", () => {
  let doc: ParsedDocument;
  beforeAll(async () => {
    doc = await pdfLoader.load({ source: "books/sample-zh.pdf", data: readFileSync(SAMPLE_ZH_PDF_PATH) });
  });
  const all = (): string => doc.sections.map((s) => s.text).join("\n\n");

  it("takes the title from /Info and reports the format", () => {
    expect(doc.title).toBe(SAMPLE_ZH_TITLE);
    expect(doc.format).toBe("pdf");
  });

  it("gives every section a 1-based page, covering every page in order", () => {
    expect(doc.sections.length).toBeGreaterThan(0);
    for (const s of doc.sections) expect(Number.isInteger(s.page) && (s.page ?? 0) >= 1).toBe(true);
    const pages = doc.sections.map((s) => s.page ?? 0);
    expect([...new Set(pages)]).toEqual([1, 2, 3, 4]);
    expect(pages).toEqual([...pages].sort((a, b) => a - b));
  });

  it("extracts the Chinese text (needs pdf.js CMaps) and the English lines", () => {
    const text = all();
    expect(text.match(/[\u4e00-\u9fff]/g)?.length ?? 0).toBeGreaterThan(200);
    expect(text).toContain("鸢尾花数据集包含 150 个样本，分为 3 个类别");
    expect(text).toContain("Arthur Samuel coined the term machine learning");
    expect(text).toContain("GPT-4 和 LLaMA-2 70B");
  });

  it("drops the running header and the page-number footers", () => {
    const text = all();
    expect(text).not.toContain(SAMPLE_ZH_HEADER);
    expect(text).not.toContain("课程讲义");
    expect(text).not.toMatch(/-\s*\d\s*-/);
    for (const s of doc.sections) expect(s.text.split("\n").at(-1)).not.toMatch(/^[-\s\d]+$/);
  });

  it("joins a Chinese line break without a space, and a Chinese/Latin one with a space", () => {
    const text = all();
    expect(text).toContain("机器学习是人工智能的一个分支");
    expect(text).toContain("预测实值输出标记。");
    // Body lines only: a heading keeps one space between its marker and its title (「第 1 章 概述」).
    for (const s of doc.sections) {
      const body = s.headings.length > 0 ? s.text.split("\n").slice(1).join("\n") : s.text;
      expect(body).not.toMatch(/[\u4e00-\u9fff][ \n][\u4e00-\u9fff]/);
    }
    expect(text).toContain("1959 年， Arthur Samuel");
  });

  it("turns numbered headings into heading paths, carried across pages and popped on a new chapter", () => {
    const on = (page: number) => doc.sections.filter((s) => s.page === page).map((s) => s.headings);
    expect(on(1)).toEqual([["第 1 章 概述"], ["第 1 章 概述", "1.1 背景"]]);
    // Page 2 opens mid-section: the heading path from page 1 carries on.
    expect(on(2)).toEqual([
      ["第 1 章 概述", "1.1 背景"],
      ["第 1 章 概述", "1.2 基本术语"],
    ]);
    expect(on(3)).toEqual([["第 2 章 线性模型"], ["第 2 章 线性模型", "2.1 线性回归"]]);
    expect(on(4)).toEqual([["第 2 章 线性模型", "2.2 对数几率回归"]]);
  });

  it("keeps a heading as its own first line of the section text", () => {
    const s = doc.sections.find((x) => x.headings.at(-1) === "1.1 背景");
    expect(s?.text.startsWith("1.1 背景\n机器学习的思想")).toBe(true);
  });

  it("is deterministic", async () => {
    const again = await pdfLoader.load({ source: "books/sample-zh.pdf", data: readFileSync(SAMPLE_ZH_PDF_PATH) });
    expect(again).toEqual(doc);
  });
});

describe("pdfLoader on generated PDFs", () => {
  it("falls back to the file name for the title and handles a page with no text", async () => {
    const data = makePdf([["只有一页的内容。"], [], ["Third page, English only."]]);
    const doc = await pdfLoader.load({ source: "a/b/report.v2.pdf", data });
    expect(doc.title).toBe("report.v2");
    expect(doc.sections).toEqual([
      { text: "只有一页的内容。", headings: [], page: 1 },
      { text: "Third page, English only.", headings: [], page: 3 },
    ]);
  });

  it("drops bare page numbers at a page edge even on a short document, but keeps numbers inside the text", async () => {
    const data = makePdf([
      ["第 1 页", "正文第一页。", "共有 12 个样本。"],
      ["正文第二页。", "2 / 9"],
    ]);
    const doc = await pdfLoader.load({ source: "short.pdf", data });
    expect(doc.sections.map((s) => s.text)).toEqual(["正文第一页。共有 12 个样本。", "正文第二页。"]);
    expect(doc.sections.map((s) => s.page)).toEqual([1, 2]);
  });

  it("does not mistake a line that only starts with a number for a heading", async () => {
    const data = makePdf([["3.5 = x + y", "1959 年提出了这个术语。"]]);
    const doc = await pdfLoader.load({ source: "m.pdf", data });
    expect(doc.sections.every((s) => s.headings.length === 0)).toBe(true);
  });

  it("does not detach the buffer it is given", async () => {
    const data = makePdf([["内容"]]);
    await pdfLoader.load({ source: "x.pdf", data });
    expect(data.length).toBeGreaterThan(0);
    expect(data.subarray(0, 5).toString("latin1")).toBe("%PDF-");
  });
});

describe("pdfLoader on broken files", () => {
  const broken = makeBrokenPdfs();
  for (const [name, data] of Object.entries(broken)) {
    it(`rejects ${name} with a ParseError (PARSE_FAILED) naming the source`, async () => {
      const source = `broken/${name}.pdf`;
      const err: unknown = await pdfLoader.load({ source, data }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ParseError);
      expect((err as ParseError).code).toBe("PARSE_FAILED");
      expect((err as ParseError).message.startsWith(`${source}: `)).toBe(true);
      expect((err as ParseError).expose).toBe(true);
    });
  }

  it("still parses a good file after broken ones", async () => {
    for (const data of Object.values(broken)) await pdfLoader.load({ source: "b.pdf", data }).catch(() => undefined);
    const doc = await pdfLoader.load({ source: "ok.pdf", data: makePdf([["恢复正常。"]]) });
    expect(doc.sections[0]?.text).toMatch(CJK);
  });
});
