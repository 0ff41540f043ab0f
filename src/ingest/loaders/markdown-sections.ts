import { decode } from "entities";
import { htmlToText } from "../html-to-text.ts";
import type { Section } from "../document.ts";
import { tidyWhitespace } from "../../text/normalize.ts";

/**
 * Walks Markdown line by line, tracking the heading path, and cleans prose for indexing: image links and HTML tags
 * go, HTML tables become readable rows, link text stays, code fences are kept verbatim.
 */
const FENCE = /^\s{0,3}(```+|~~~+)/;
const ATX = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;

const IMAGE = /!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]/g;
const LINK = /\[([^\]]*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+"[^"]*")?\)/g;
const BLOCK_DROP = /<(script|style|noscript|template|iframe|svg|math)\b[\s\S]*?<\/\1\s*>/gi;
const COMMENT = /<!--[\s\S]*?-->/g;
const TABLE = /<table\b[\s\S]*?<\/table\s*>/gi;
const TAG = /<\/?[a-zA-Z][\w:-]*(?:\s+[^<>]*?)?\/?>/g;
const BR = /<br\s*\/?>/gi;

export function cleanMarkdownProse(text: string): string {
  return decode(
    text
      .replace(COMMENT, "")
      .replace(BLOCK_DROP, "")
      .replace(TABLE, (t) => `\n\n${htmlToText(t).text}\n\n`)
      .replace(BR, "\n")
      .replace(IMAGE, "")
      // Permalink anchors ("## Title[#](#title)", "¶") are navigation, not text.
      .replace(LINK, (_m, text: string) => (/^\s*[#¶🔗]\s*$/u.test(text) ? "" : text))
      .replace(TAG, "")
      .replace(/^\s{0,3}(?:[-*_]\s*){3,}$/gm, "")
      // Emphasis markers carry no meaning for retrieval; the words inside them stay.
      .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "$2")
      .replace(/(?<![*\w])\*(?=\S)([^*\n]*?\S)\*(?![*\w])/g, "$1"),
  );
}

export interface MarkdownSectionsOptions {
  /** Cleans a run of prose; text that is already plain (from HTML) passes `(t) => t` so it is not cleaned twice. */
  cleanProse?: (text: string) => string;
  /** Called for every heading outside code fences, with its cleaned text. */
  onHeading?: (level: number, text: string) => void;
}

export function markdownSections(markdown: string, opts: MarkdownSectionsOptions = {}): Section[] {
  const clean = opts.cleanProse ?? cleanMarkdownProse;
  const sections: Section[] = [];
  const stack: { level: number; text: string }[] = [];
  let buffer: string[] = [];
  let fence: string | undefined;

  const flush = (): void => {
    const text = tidyWhitespace(buffer.join("\n"));
    buffer = [];
    if (text) sections.push({ text, headings: stack.map((h) => h.text) });
  };

  let prose: string[] = [];
  const flushProse = (): void => {
    if (prose.length) buffer.push(clean(prose.join("\n")));
    prose = [];
  };

  for (const line of markdown.split("\n")) {
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      buffer.push(line);
      if (fenceMatch?.[1] && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length && line.trim() === fenceMatch[1]) {
        fence = undefined;
      }
      continue;
    }
    if (fenceMatch?.[1]) {
      flushProse();
      fence = fenceMatch[1];
      buffer.push(line);
      continue;
    }
    const heading = ATX.exec(line);
    if (heading?.[1]) {
      flushProse();
      flush();
      const level = heading[1].length;
      const text = tidyWhitespace(clean(heading[2] ?? "")).replace(/\s+/g, " ");
      if (text) opts.onHeading?.(level, text);
      while (stack.length && (stack.at(-1)?.level ?? 0) >= level) stack.pop();
      if (text) stack.push({ level, text });
      continue;
    }
    prose.push(line);
  }
  flushProse();
  flush();
  return sections;
}
