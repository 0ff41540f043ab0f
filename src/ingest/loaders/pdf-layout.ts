import type { Section } from "../document.ts";
import { normalizeText } from "../../text/normalize.ts";

/**
 * Turns pdf.js page text (one line per visual line) into sections:
 * - running headers/footers (a line that recurs at the top or bottom of many pages, digits ignored) are dropped;
 * - visual line breaks inside Chinese text are joined without a space, so a word broken across two lines is one word
 *   again for the tokeniser; Latin text keeps a space;
 * - numbered headings common in Chinese books and reports (「第 3 章 线性模型」, 「3.2 线性回归」) start a new section and
 *   give the following text a heading path, carried across pages.
 */
const EDGE_LINES = 2;
const CJK_CHAR = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;
const HEADING =
  /^(第\s*[\d一二三四五六七八九十百]+\s*[章篇部]|第\s*[\d一二三四五六七八九十百]+\s*节|\d{1,2}(?:\.\d{1,2}){1,3}|附录\s*[A-Z\d]?)\s*(\S.{0,48})?$/;
const SENTENCE_END = /[。！？；：，,;:!?]$/;

function lineKey(line: string): string {
  return line.replace(/\d+/g, "#").replace(/\s+/g, " ").trim();
}

export function findRunningLines(pages: string[][]): Set<string> {
  const counts = new Map<string, number>();
  for (const lines of pages) {
    const seen = new Set<string>();
    const edges = [...lines.slice(0, EDGE_LINES), ...lines.slice(-EDGE_LINES)];
    for (const l of edges) {
      const key = lineKey(l);
      if (key && !seen.has(key)) {
        seen.add(key);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
  }
  const threshold = Math.max(3, Math.ceil(pages.length * 0.3));
  const running = new Set<string>();
  for (const [key, n] of counts) if (n >= threshold) running.add(key);
  // Bare page numbers ("12", "- 12 -", "第 12 页") are running lines wherever they appear at a page edge.
  return running;
}

function isPageNumber(line: string): boolean {
  return /^[-–—\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*\/\s*\d{1,4})?[-–—\s]*$/.test(line) || /^page\s+\d+(\s+of\s+\d+)?$/i.test(line);
}

function headingLevel(marker: string): number {
  if (/^第/.test(marker) && /[章篇部]$/.test(marker)) return 1;
  if (/^附录/.test(marker)) return 1;
  if (/^第/.test(marker)) return 2;
  return marker.split(".").length; // "3.2" → 2, "3.2.1" → 3
}

function asHeading(line: string): { level: number; text: string } | undefined {
  if (line.length > 60 || SENTENCE_END.test(line)) return undefined;
  const m = HEADING.exec(line);
  if (!m?.[1]) return undefined;
  const title = m[2] ?? "";
  // A heading names something: a dotted number alone or followed by maths ("3.2 = x") is not one.
  if (!/^第|^附录/.test(m[1]) && !/[\u3400-\u9fff]{2}|[A-Za-z]{3}/.test(title)) return undefined;
  if (/[=<>+]/.test(title)) return undefined;
  // Marker and title always one space apart: page text loses the space between two CJK characters (「第 1 章 概述」).
  return { level: headingLevel(m[1]), text: `${m[1]} ${title}`.replace(/\s+/g, " ").trim() };
}

/** Join visual lines: no space between two CJK characters, one space otherwise. */
export function joinLines(lines: string[]): string {
  let out = "";
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    if (!out) {
      out = line;
      continue;
    }
    const a = out.at(-1) ?? "";
    const b = line[0] ?? "";
    out += CJK_CHAR.test(a) && CJK_CHAR.test(b) ? line : ` ${line}`;
  }
  return out;
}

export function pagesToSections(pageTexts: string[]): Section[] {
  const pages = pageTexts.map((t) =>
    normalizeText(t)
      // pdf.js separates text items with tabs; between two CJK characters that gap is an artefact.
      .replace(/(?<=[\u3400-\u9fff\u3000-\u303f\uff00-\uffef])[ \t]+(?=[\u3400-\u9fff\u3000-\u303f\uff00-\uffef])/g, "")
      .replace(/\t/g, " ")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.length > 0),
  );
  const running = findRunningLines(pages);
  const sections: Section[] = [];
  const stack: { level: number; text: string }[] = [];

  pages.forEach((lines, i) => {
    const page = i + 1;
    let headingLine: string | undefined;
    let buffer: string[] = [];
    const flush = (): void => {
      // The heading keeps a line of its own, so it is not glued to the first sentence ("1.1 背景机器学习…").
      const body = joinLines(buffer);
      const text = headingLine ? `${headingLine}\n${body}`.trim() : body;
      headingLine = undefined;
      buffer = [];
      if (text) sections.push({ text, headings: stack.map((h) => h.text), page });
    };
    lines.forEach((line, j) => {
      const atEdge = j < EDGE_LINES || j >= lines.length - EDGE_LINES;
      if (atEdge && (running.has(lineKey(line)) || isPageNumber(line))) return;
      const heading = asHeading(line);
      if (heading) {
        flush();
        while (stack.length && (stack.at(-1)?.level ?? 0) >= heading.level) stack.pop();
        stack.push(heading);
        // The heading line stays in the text too: it is often what a question quotes.
        headingLine = heading.text;
        return;
      }
      buffer.push(line);
    });
    flush();
  });
  return sections;
}
