import { describe, expect, it } from "vitest";
import { type ChunkerSettings, chunkSections, type TextChunk } from "../../../src/ingest/chunker.ts";
import type { Section } from "../../../src/ingest/document.ts";

/** The document text chunk offsets refer to: sections joined by a blank line. */
const docText = (sections: Section[]): string => sections.map((s) => s.text).join("\n\n");

function expectOffsetsPointIntoDocument(sections: Section[], chunks: TextChunk[]): void {
  const doc = docText(sections);
  for (const c of chunks) {
    expect(c.start).toBeGreaterThanOrEqual(0);
    expect(c.end).toBeLessThanOrEqual(doc.length);
    expect(doc.slice(c.start, c.end).trim()).toBe(c.text);
  }
}

const zhSentences = (n: number, tag = ""): string => Array.from({ length: n }, (_, i) => `第${tag}${i + 1}句话讲的是检索增强生成的一个细节。`).join("");

describe("chunkSections", () => {
  const settings: ChunkerSettings = { chunkSize: 100, chunkOverlap: 40 };

  it("keeps every chunk within chunkSize and cuts at sentence ends", () => {
    const sections: Section[] = [{ text: zhSentences(30), headings: ["检索"] }];
    const chunks = chunkSections(sections, settings);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(settings.chunkSize);
      expect(c.text).toMatch(/^第\d+句/);
      expect(c.text).toMatch(/。$/);
    }
    expectOffsetsPointIntoDocument(sections, chunks);
  });

  it("splits one over-long sentence at clause marks, still within chunkSize", () => {
    const clause = "检索增强生成先从知识库中找出相关的段落";
    const sentence = `${Array.from({ length: 12 }, (_, i) => `${clause}${i}`).join("，")}。`;
    const sections: Section[] = [{ text: sentence, headings: [] }];
    const chunks = chunkSections(sections, { chunkSize: 60, chunkOverlap: 0 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(60);
    for (const c of chunks.slice(0, -1)) expect(c.text).toMatch(/，$/);
    expect(chunks.map((c) => c.text).join("")).toBe(sentence);
    expectOffsetsPointIntoDocument(sections, chunks);
  });

  it("repeats whole trailing sentences, at most chunkOverlap characters, at the start of the next chunk", () => {
    const sections: Section[] = [{ text: zhSentences(20), headings: [] }];
    const chunks = chunkSections(sections, settings);
    for (let k = 1; k < chunks.length; k++) {
      const prev = chunks[k - 1] as TextChunk;
      const next = chunks[k] as TextChunk;
      const overlap = prev.end - next.start;
      expect(overlap).toBeGreaterThan(0);
      expect(overlap).toBeLessThanOrEqual(settings.chunkOverlap);
      const repeated = docText(sections).slice(next.start, prev.end);
      expect(prev.text.endsWith(repeated)).toBe(true);
      expect(next.text.startsWith(repeated)).toBe(true);
      // Whole sentences: the repeated part starts a sentence and ends one.
      expect(repeated).toMatch(/^第\d+句.*。$/);
      // And the next chunk adds something new.
      expect(next.end).toBeGreaterThan(prev.end);
    }
  });

  it("never makes a chunk of nothing but the overlap", () => {
    const text = "Alpha one is here. Beta two is here. Gamma three is here. Delta four is here. Eps.";
    const sections: Section[] = [{ text, headings: [] }];
    const chunks = chunkSections(sections, { chunkSize: 38, chunkOverlap: 19 });
    for (let k = 1; k < chunks.length; k++) expect(chunks[k]?.end).toBeGreaterThan(chunks[k - 1]?.end ?? 0);
    expect(chunks.map((c) => c.text)).toEqual(["Alpha one is here. Beta two is here.", "Gamma three is here.", "Delta four is here. Eps."]);
    expectOffsetsPointIntoDocument(sections, chunks);
  });

  it("with chunkOverlap 0, chunks tile the text exactly", () => {
    const text = zhSentences(12);
    const chunks = chunkSections([{ text, headings: [] }], { chunkSize: 80, chunkOverlap: 0 });
    expect(chunks.map((c) => c.text).join("")).toBe(text);
    for (let k = 1; k < chunks.length; k++) expect(chunks[k]?.start).toBe(chunks[k - 1]?.end);
  });

  it("merges a tiny tail into the chunk before it, keeping the space between English sentences", () => {
    const text = "Alpha one is here. Beta two is here. Eps.";
    const chunks = chunkSections([{ text, headings: ["H"] }], { chunkSize: 40, chunkOverlap: 0 });
    // Tail merging is the one place a chunk may exceed chunkSize, by at most a quarter.
    expect(chunks).toEqual([{ text, headings: ["H"], start: 0, end: text.length }]);
    expect(text.length).toBeLessThanOrEqual(40 * 1.25);
  });

  it("merges a tiny tail correctly when it starts inside the overlap", () => {
    const sections: Section[] = [
      { text: "intro", headings: [] },
      { text: `${zhSentences(5)}尾巴。`, headings: [] },
    ];
    const chunks = chunkSections(sections, { chunkSize: 60, chunkOverlap: 20 });
    expectOffsetsPointIntoDocument(sections, chunks);
    expect(chunks.at(-1)?.text.endsWith("尾巴。")).toBe(true);
    for (const c of chunks) expect(c.text).not.toMatch(/。。|(第\d+句[^。]*。)\1/);
  });

  it("gives every chunk the heading path and page of its section, and offsets across sections", () => {
    const sections: Section[] = [
      { text: zhSentences(6, "甲"), headings: ["第 1 章 概述"], page: 1 },
      { text: zhSentences(6, "乙"), headings: ["第 1 章 概述", "1.1 背景"], page: 1 },
      { text: zhSentences(6, "丙"), headings: ["第 1 章 概述", "1.1 背景"], page: 2 },
      { text: "English section. It has two sentences.", headings: ["Appendix"] },
    ];
    const chunks = chunkSections(sections, settings);
    for (const c of chunks) {
      const owner = sections.find((s) => s.text.includes(c.text.slice(0, 8)));
      expect(c.headings).toEqual(owner?.headings);
      expect(c.page).toBe(owner?.page);
    }
    expect(chunks.filter((c) => c.text.includes("丙")).every((c) => c.page === 2)).toBe(true);
    expect(chunks.at(-1)).not.toHaveProperty("page");
    expectOffsetsPointIntoDocument(sections, chunks);
  });

  it("folds a short intro section into the next one when it is the parent heading on the same page", () => {
    const sections: Section[] = [
      { text: "第 1 章 概述", headings: ["第 1 章 概述"], page: 1 },
      { text: zhSentences(2), headings: ["第 1 章 概述", "1.1 背景"], page: 1 },
    ];
    const chunks = chunkSections(sections, settings);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.text.startsWith("第 1 章 概述\n\n第1句话")).toBe(true);
    expect(chunks[0]?.headings).toEqual(["第 1 章 概述", "1.1 背景"]);
    expect(chunks[0]?.page).toBe(1);
    expectOffsetsPointIntoDocument(sections, chunks);
  });

  it("keeps offsets true when the folded intro is followed by more sections", () => {
    const sections: Section[] = [
      { text: "前言一句。", headings: [] },
      { text: zhSentences(8, "A"), headings: ["A"] },
      { text: "短。", headings: ["B"] },
      { text: zhSentences(8, "C"), headings: ["B", "C"] },
    ];
    const chunks = chunkSections(sections, settings);
    expectOffsetsPointIntoDocument(sections, chunks);
    expect(chunks[0]?.text.startsWith("前言一句。\n\n第A1句")).toBe(true);
    expect(chunks.find((c) => c.text.startsWith("短。"))?.headings).toEqual(["B", "C"]);
  });

  it("does not fold across pages or into an unrelated heading", () => {
    const otherPage: Section[] = [
      { text: "第 2 章 模型", headings: ["第 2 章 模型"], page: 3 },
      { text: zhSentences(2), headings: ["第 2 章 模型", "2.1 线性"], page: 4 },
    ];
    expect(chunkSections(otherPage, settings).map((c) => c.page)).toEqual([3, 4]);
    const unrelated: Section[] = [
      { text: "附录很短。", headings: ["附录"] },
      { text: zhSentences(2), headings: ["参考文献"] },
    ];
    expect(chunkSections(unrelated, settings).map((c) => c.headings)).toEqual([["附录"], ["参考文献"]]);
  });

  it("makes no chunks from no text, and is deterministic", () => {
    expect(chunkSections([], settings)).toEqual([]);
    expect(chunkSections([{ text: "   ", headings: [] }], settings)).toEqual([]);
    const sections: Section[] = [
      { text: `${zhSentences(9)}\n\nMixed English. ${zhSentences(9, "b")}`, headings: ["x"], page: 2 },
      { text: zhSentences(15, "c"), headings: ["y"] },
    ];
    expect(chunkSections(sections, settings)).toEqual(chunkSections(structuredClone(sections), settings));
  });
});
