import { Router } from "express";
import type { DocumentHeadings } from "../../src/knowledge-base/knowledge-base.ts";
import type { AppDeps } from "../app-deps.ts";

export const MAX_EXAMPLES = 4;

/** Section names that make poor questions ("What is Introduction?"). Compared lower-cased. */
const GENERIC = new Set(
  [
    "info",
    "outline",
    "overview",
    "introduction",
    "intro",
    "summary",
    "conclusion",
    "conclusions",
    "references",
    "reference",
    "future",
    "contents",
    "table of contents",
    "appendix",
    "faq",
    "notes",
    "background",
    "uniqueness",
    "limitations",
    "目录",
    "简介",
    "概述",
    "总结",
    "小结",
    "参考",
    "参考文献",
    "参考资料",
    "附录",
    "前言",
    "引言",
    "背景",
  ].map((s) => s.toLowerCase()),
);

const HAN = /\p{Script=Han}/u;
/** "1. ", "2.1.", "1.1.Text", "二、", "三. ", "第二章 ", "(3) ", "IV. " at the start of a heading. */
const NUMBERING =
  /^\s*(?:\d+(?:\.\d+)*(?:\.(?!\d)\s*|\s+|[、)）]\s*)|[一二三四五六七八九十百零〇]+\s*[、.．)）]\s*|第[一二三四五六七八九十百零〇\d]+[章节部分篇讲][、.．:：\s]*|[(（][\d一二三四五六七八九十]+[)）]\s*|[IVX]+\.\s+)/u;
/** A trailing remark in brackets: "GLM Series (Zhipu AI & Tsinghua University )", "闭源 LLM (未公开源代码)". */
const TRAILING_REMARK = /\s*[(（][^()（）]*[)）]\s*$/u;
const SENTENCE_PUNCTUATION = /[,，。？?!！:：;；|"“”]/u;

/** A heading without its numbering, trailing remark and extra spaces. */
export function cleanHeading(heading: string): string {
  let h = heading.replace(/\s+/g, " ").trim();
  h = h.replace(NUMBERING, "").trim();
  h = h.replace(TRAILING_REMARK, "").trim();
  return h;
}

/** Short, not a sentence, not a generic section name. */
function usable(topic: string): boolean {
  if (topic.length < 2 || topic.length > 20) return false;
  if (SENTENCE_PUNCTUATION.test(topic)) return false;
  if (topic.split(" ").filter((w) => /[A-Za-z]/.test(w)).length > 4) return false;
  return !GENERIC.has(topic.toLowerCase());
}

/** English words that mark a phrase ("Evolution of LLaMA", "Access GPT by APIs") rather than a name. */
const PHRASE_WORDS = /\b(?:of|in|on|by|for|and|or|to|the|a|an|with|vs|is|are|how|what|why|who)\b/i;

/**
 * Looks like the name of something (a model, a series): has Chinese, a digit, or an inner capital (PaLM, GPT, LLaMA),
 * and is not an English phrase.
 */
function nameLike(topic: string): boolean {
  if (PHRASE_WORDS.test(topic)) return false;
  return HAN.test(topic) || /\d/.test(topic) || /[a-z][A-Z]|[A-Z]{2}/.test(topic);
}

export function toQuestion(topic: string): string {
  return HAN.test(topic) ? `介绍一下 ${topic}` : `What is ${topic}?`;
}

/**
 * A document's topics, best first: name-like second-level headings, then name-like deeper ones, then name-like
 * top-level ones, then any other usable heading. Within a rank, document order.
 */
function topicsOf(doc: DocumentHeadings): string[] {
  const ranked: string[][] = [[], [], [], []];
  for (const path of doc.paths) {
    path.forEach((heading, depth) => {
      const topic = cleanHeading(heading);
      if (!usable(topic)) return;
      const rank = !nameLike(topic) ? 3 : depth === 1 ? 0 : depth >= 2 ? 1 : 2;
      ranked[rank]?.push(topic);
    });
  }
  return ranked.flat();
}

/**
 * Up to `max` example questions, deterministic for a given index: one topic from each of different documents first
 * (in source order), then further topics round-robin, then document titles. Duplicates (case-insensitive) are skipped.
 */
export function exampleQuestions(docs: readonly DocumentHeadings[], max = MAX_EXAMPLES): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const take = (topic: string): boolean => {
    const key = topic.toLowerCase();
    if (seen.has(key) || out.length >= max) return false;
    seen.add(key);
    out.push(toQuestion(topic));
    return true;
  };
  const queues = docs.map(topicsOf);
  while (out.length < max && queues.some((q) => q.length > 0)) {
    // Each document gives at most one new topic per round.
    for (const queue of queues) {
      while (out.length < max && queue.length > 0 && !take(queue.shift() as string)) {}
    }
  }
  for (const doc of docs) {
    const title = cleanHeading(doc.title);
    if (usable(title)) take(title);
  }
  return out;
}

/** GET /examples: example questions for the chat page's empty state, made from the current index's headings. */
export function examplesRoute(deps: AppDeps): Router {
  const router = Router();
  router.get("/examples", (_req, res) => {
    res.json({ examples: exampleQuestions(deps.kb.listHeadingPaths()) });
  });
  return router;
}
