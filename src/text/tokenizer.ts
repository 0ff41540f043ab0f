import { Jieba } from "@node-rs/jieba";
import { dict } from "@node-rs/jieba/dict.js";
import { QUERY_STOPWORDS, STOPWORDS, stripQueryBoilerplate } from "./stopwords.ts";

/**
 * Tokeniser for mixed Chinese/English text.
 *
 * Latin and digit runs are cut by our own rule before jieba sees the text, because jieba splits product names
 * unpredictably ("ChatGLM-6B" → "ChatGLM-6", "B"). A run like "LLaMA-2" yields "llama-2", its parts "llama", "2" and the
 * joined "llama2"; a word followed by a version number ("LLaMA 2", "GPT 4") also yields the joined form, so the query
 * spellings "LLaMA 2", "LLaMA-2" and "Llama2" all meet. Chinese runs go through jieba's precise cut (HMM on for
 * unknown words); the character bigrams give partial matches inside compounds that the word cut splits differently.
 */
export interface Analysis {
  /** Words: jieba's precise cut for Chinese, our rule for Latin/digit runs; stopwords removed. */
  words: string[];
  /** CJK character bigrams over the runs of kept words (never across a stopword), plus the Latin tokens. */
  bigrams: string[];
}

export interface Tokenizer {
  /** Index-side analysis. */
  analyze(text: string): Analysis;
  /** Query-side analysis: as `analyze`, minus templated question boilerplate and instruction words. */
  analyzeQuery(text: string): Analysis;
}

let jieba: Jieba | undefined;
function getJieba(): Jieba {
  // Loading the dictionary costs ~200 ms; every tokenizer in the process shares the one immutable instance.
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

// Latin, digits and Greek letters (maths: θ, λ, Σ) form "word" runs; CJK runs go to jieba.
const SEGMENT = /([a-z0-9\u03b1-\u03c9]+(?:[-_.+][a-z0-9\u03b1-\u03c9]+)*)|([\u3400-\u9fff\uf900-\ufaff]+)/g;
const VERSION_LIKE = /^(?:v?\d+(?:\.\d+)*[a-z]?|[a-z]\d+)$/;
const LETTERS_THEN_DIGITS = /^([a-z]{2,})(\d[\d.]*[a-z]?)$/;

function latinTokens(run: string, out: string[]): void {
  out.push(run);
  const parts = run.split(/[-_+]/).filter((p) => p.length > 0);
  if (parts.length > 1) {
    for (const p of parts) out.push(p);
    out.push(parts.join(""));
  }
  for (const p of parts) {
    const m = LETTERS_THEN_DIGITS.exec(p);
    if (m?.[1] && m[2]) out.push(m[1], m[2]);
  }
}

function keep(token: string, extra?: ReadonlySet<string>): boolean {
  if (token.length === 0) return false;
  if (STOPWORDS.has(token) || extra?.has(token)) return false;
  // Single Latin letters are noise; single digits and single CJK characters can carry meaning ("2" in "LLaMA 2").
  if (token.length === 1 && /[a-z]/.test(token)) return false;
  return true;
}

function pushBigrams(group: string, out: string[]): void {
  if (group.length === 1) out.push(group);
  for (let i = 0; i + 1 < group.length; i++) out.push(group.slice(i, i + 2));
}

function analyze(text: string, extra?: ReadonlySet<string>): Analysis {
  const lower = text.normalize("NFKC").toLowerCase();
  const words: string[] = [];
  const bigrams: string[] = [];
  let prevWord: { text: string; end: number } | undefined;
  for (const m of lower.matchAll(SEGMENT)) {
    const index = m.index ?? 0;
    if (m[1]) {
      const run = m[1];
      const raw: string[] = [];
      latinTokens(run, raw);
      // "llama 2" / "gpt 4": join a plain word with the version number right after it.
      if (prevWord && /^[ \t]+$/.test(lower.slice(prevWord.end, index)) && VERSION_LIKE.test(run)) {
        raw.push(prevWord.text + run);
      }
      for (const t of raw) {
        if (!keep(t, extra)) continue;
        words.push(t);
        bigrams.push(t);
      }
      prevWord = /^[a-z]{2,}$/.test(run) ? { text: run, end: index + run.length } : undefined;
    } else if (m[2]) {
      prevWord = undefined;
      let group = "";
      for (const w of getJieba().cut(m[2], true)) {
        if (keep(w, extra)) {
          words.push(w);
          group += w;
        } else if (group) {
          pushBigrams(group, bigrams);
          group = "";
        }
      }
      if (group) pushBigrams(group, bigrams);
    }
  }
  return { words, bigrams };
}

export function createTokenizer(): Tokenizer {
  getJieba();
  return {
    analyze: (text) => analyze(text),
    analyzeQuery: (text) => analyze(stripQueryBoilerplate(text.normalize("NFKC")), QUERY_STOPWORDS),
  };
}
