import { readFileSync, statSync } from "node:fs";
import { PDFParse } from "pdf-parse";
import { describe, expect, it } from "vitest";
import { pdfjsResourceUrls } from "../../../src/ingest/loaders/pdf-resources.ts";
import { makeBrokenPdfs, makePdf } from "../../helpers/make-pdf.ts";
import { SAMPLE_ZH_PDF_PATH, sampleZhPdf } from "../../helpers/write-fixtures.ts";

async function extract(data: Buffer, withCMaps: boolean): Promise<{ pages: string[]; title: unknown }> {
  const parser = new PDFParse({ data: new Uint8Array(data), ...(withCMaps ? { ...pdfjsResourceUrls(), cMapPacked: true } : {}), verbosity: 0 });
  try {
    const text = await parser.getText();
    const info = await parser.getInfo();
    return { pages: text.pages.map((p) => p.text), title: (info.info as { Title?: unknown }).Title };
  } finally {
    await parser.destroy();
  }
}

describe("makePdf", () => {
  const pdf = makePdf([["第 1 章 概述", "机器学习是人工智能的一个分支。", "LLaMA-2 70B and GPT-4.0"], ["第二页：线性模型"]], { title: "测试文档 Test" });

  it("writes a structurally valid PDF: header, xref offsets that point at their objects, trailer, EOF", () => {
    const raw = pdf.toString("latin1");
    expect(raw.startsWith("%PDF-1.4\n")).toBe(true);
    expect(raw.trimEnd().endsWith("%%EOF")).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(raw)?.[1]);
    expect(raw.slice(startxref, startxref + 5)).toBe("xref\n");
    const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(raw.slice(startxref)) ?? [];
    expect(Number(first)).toBe(0);
    const entries = raw
      .slice(startxref)
      .split("\n")
      .slice(2, 2 + Number(count));
    expect(entries[0]).toBe("0000000000 65535 f\r");
    entries.slice(1).forEach((entry, i) => {
      expect(entry).toMatch(/^\d{10} 00000 n\r$/);
      const offset = Number(entry.slice(0, 10));
      expect(raw.slice(offset, offset + 20)).toMatch(new RegExp(`^${i + 1} 0 obj\\n`));
    });
    expect(raw).toMatch(new RegExp(`trailer\\n<< /Size ${count} /Root 1 0 R /Info 6 0 R >>`));
    // Stream lengths are exact too.
    for (const m of raw.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
      const start = (m.index ?? 0) + m[0].length;
      expect(raw.slice(start + Number(m[1]), start + Number(m[1]) + 9)).toBe("endstream");
    }
  });

  it("round-trips Chinese and Latin text through pdf.js, one line per text line, and the /Info title", async () => {
    const { pages, title } = await extract(pdf, true);
    expect(pages).toEqual(["第 1 章 概述\n机器学习是人工智能的一个分支。\nLLaMA-2 70B and GPT-4.0", "第二页：线性模型"]);
    expect(title).toBe("测试文档 Test");
  });

  it("loses the text without pdf.js CMaps, so a loader that forgets cMapUrl fails the PDF tests", async () => {
    const { pages } = await extract(pdf, false);
    expect(pages.join("")).not.toMatch(/[\u4e00-\u9fff]/);
  });

  it("omits /Title when no title is given", () => {
    expect(makePdf([["x"]]).toString("latin1")).not.toContain("/Title");
  });

  it("makes broken files that pdf.js rejects", async () => {
    const broken = makeBrokenPdfs();
    expect(Object.keys(broken).sort()).toEqual(["empty", "garbage", "notPdf", "truncated"]);
    expect(broken.empty.length).toBe(0);
    expect(broken.truncated.toString("latin1").startsWith("%PDF-")).toBe(true);
    expect(broken.truncated.toString("latin1")).not.toContain("startxref");
    for (const data of Object.values(broken)) await expect(extract(data, true)).rejects.toThrow();
  });
});

describe("test/fixtures/sample-zh.pdf", () => {
  it("is small and byte-identical to what write-fixtures.ts generates (regenerate with: npx tsx test/helpers/write-fixtures.ts)", () => {
    expect(statSync(SAMPLE_ZH_PDF_PATH).size).toBeLessThan(20_000);
    expect(readFileSync(SAMPLE_ZH_PDF_PATH).equals(sampleZhPdf())).toBe(true);
  });
});
