import { idf as jiebaIdfTable } from "@node-rs/jieba/dict.js";
import { baseFormCandidates } from "../text/lexicon/english-stem.ts";

/**
 * How much of the question a chunk covers, from the query's own terms (not expansions):
 * - `share`: the IDF-weighted share of the question's terms found in the chunk. Rare terms dominate, so a chunk that
 *   shares only common words ("模型", "learn") with the question scores low. Terms the corpus has never seen count
 *   with the highest IDF: a question about 足球 over LLM notes is mostly made of such terms.
 * - `mass`: the summed IDF of the matched terms in units of the highest possible IDF — roughly "how many rare terms
 *   matched". Long questions (many words besides the topic) have a low share but a high mass when on topic.
 */
export interface Coverage {
  share: number;
  mass: number;
}

export function termCoverage(
  queryTerms: readonly string[],
  docTerms: ReadonlySet<string>,
  idf: (term: string) => number,
  maxIdf: number,
  alternatives: ReadonlyMap<string, readonly string[]> = new Map(),
): Coverage {
  let total = 0;
  let covered = 0;
  for (const t of new Set(queryTerms)) {
    const w = idf(t);
    total += w;
    // A term written in the other language (上下文长度 ↔ context length) covers it too.
    if (docTerms.has(t) || alternatives.get(t)?.some((a) => docTerms.has(a))) covered += w;
  }
  return { share: total > 0 ? covered / total : 0, mass: maxIdf > 0 ? covered / maxIdf : 0 };
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const LETTERS_THEN_DIGITS = /^([a-z]{2,})(\d[\d.]*[a-z]?)$/;

/**
 * The question's content words as the user wrote them, each with its spellings in the token list: a Chinese word of
 * two or more characters, or a Latin run of three or more characters with a letter, with the joined form the tokenizer
 * derives from it ("fine-tuned" → "finetuned"). The parts of a run ("fine", "tuned"; "gpt" of "gpt4") are not words of
 * their own; single CJK characters (用, 做), numbers and versions are not content words.
 */
export function writtenWords(queryWords: readonly string[]): string[][] {
  const tokens = [...new Set(queryWords)];
  const derived = new Set<string>();
  const spellings = new Map<string, string[]>();
  for (const t of tokens) {
    if (CJK.test(t)) continue;
    const parts = t.split(/[-_+]/).filter(Boolean);
    const pieces = parts.length > 1 ? [...parts] : [];
    for (const p of parts) {
      const m = LETTERS_THEN_DIGITS.exec(p);
      if (m?.[1] && m[2]) pieces.push(m[1], m[2]);
    }
    for (const p of pieces) if (p !== t) derived.add(p);
    if (parts.length > 1) {
      const joined = parts.join("");
      derived.add(joined);
      spellings.set(t, [t, joined]);
    }
  }
  const out: string[][] = [];
  for (const t of tokens) {
    if (CJK.test(t)) {
      if ([...t].length >= 2) out.push([t]);
    } else if (!derived.has(t) && t.length >= 3 && /[a-z]/.test(t) && !/^v?\d/.test(t)) {
      out.push(spellings.get(t) ?? [t]);
    }
  }
  return out;
}

/**
 * General-language IDF below which a Chinese word is everyday language (到底, 背后, 图片, 分别): the ~3 % most common
 * words of jieba's reference IDF table (8,838 of its 270,131 words).
 */
export const COMMON_WORD_IDF = 8;

const idfTable = Buffer.from(jiebaIdfTable.buffer, jiebaIdfTable.byteOffset, jiebaIdfTable.byteLength);
const generalIdfCache = new Map<string, number | null>();
/** The word's IDF in jieba's reference table (lines "word idf"), or null when the table does not list it. */
function generalIdf(word: string): number | null {
  const cached = generalIdfCache.get(word);
  if (cached !== undefined) return cached;
  const key = Buffer.from(`${word} `, "utf8");
  let value: number | null = null;
  let at = idfTable.subarray(0, key.length).equals(key) ? 0 : -1;
  if (at < 0) {
    const found = idfTable.indexOf(Buffer.concat([Buffer.from("\n"), key]));
    at = found < 0 ? -1 : found + 1;
  }
  if (at >= 0) {
    const end = idfTable.indexOf(10, at);
    value = Number(idfTable.toString("utf8", at + key.length, end < 0 ? undefined : end).trim());
  }
  if (generalIdfCache.size >= 10_000) generalIdfCache.clear();
  generalIdfCache.set(word, value);
  return value;
}

/** An unseen lower-case English word this long is taken as a term, not everyday language (see `unseenWords`). */
export const LONG_ENGLISH_WORD = 6;

/**
 * Characters that make a Chinese word a question or quantity word rather than a concept: 几月, 谁家, 每层, 多久, 哪款.
 * Such words are everyday language however rare jieba's table says they are.
 */
const FUNCTION_MORPHEME = /[几谁啥咋哪多每些么吗呢怎嘛俩仨]/u;

/**
 * Whether a Latin word is written like a name in the question: with a capital inside or after the first word
 * ("Gemini", "DeepSeek", "what about Phi"), a digit, or a joiner. Plain lower-case English ("put", "ok",
 * "commercially") is everyday language that a corpus of notes may simply not use; names and terms are what a short
 * question can ask about that the notes lack.
 */
export function nameLikeIn(question: string): (word: string) => boolean {
  const text = question.normalize("NFKC");
  return (word) => {
    if (/[\d\-_+.]/.test(word)) return true;
    const re = new RegExp(`(?<![A-Za-z])${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z])`, "gi");
    for (const m of text.matchAll(re)) {
      const written = m[0];
      const atStart = /^[\s"'“‘(（]*$/.test(text.slice(0, m.index ?? 0));
      if (/[A-Z]/.test(written.slice(1)) || (!atStart && /[A-Z]/.test(written[0] ?? ""))) return true;
    }
    return false;
  };
}

/**
 * The question's specific words that the corpus has never seen in any spelling: its written words (see `writtenWords`)
 * plus the Chinese glossary terms found in it (思维链, which the word cut splits into 思维 + 链). Specific: a Latin term,
 * or a Chinese word that is not common in general Chinese (COMMON_WORD_IDF) and is either listed in jieba's reference
 * table or a glossary term. Words jieba assembled on the fly and that its table does not list are usually everyday
 * characters (比有 in 「比有啥」) and are not counted. A Chinese word counts as seen when its characters occur next to
 * each other anywhere in the corpus, since documents may be cut into words differently.
 */
export function unseenWords(
  written: readonly string[][],
  seen: { word: (term: string) => boolean; bigram: (bigram: string) => boolean },
  glossaryTerms: ReadonlyMap<string, unknown> = new Map(),
  nameLike: (word: string) => boolean = () => true,
): string[][] {
  const candidates = [...written];
  for (const term of glossaryTerms.keys()) if (!written.some(([w]) => w === term)) candidates.push([term]);
  return candidates.filter((spellings) => {
    if (spellings.some(seen.word)) return false;
    const [word = ""] = spellings;
    // An inflection of a seen word ("LLMs", "commercially", "wrapping") is seen.
    if (!CJK.test(word) && baseFormCandidates(word).some(seen.word)) return false;
    // Unseen English: a name ("Gemini", "Phi-3") or a long, morphologically complex word ("overfitting",
    // "quantization", "warmup") is specific; a short plain word ("put", "ok") is everyday language.
    if (!CJK.test(word)) return nameLike(word) || word.length >= LONG_ENGLISH_WORD;
    if (FUNCTION_MORPHEME.test(word)) return false;
    const general = generalIdf(word);
    if (general === null ? !glossaryTerms.has(word) : general < COMMON_WORD_IDF) return false;
    const chars = [...word];
    return chars.slice(1).some((c, i) => !seen.bigram(`${chars[i]}${c}`));
  });
}

/**
 * A short question's never-seen specific words that a chunk does not cover (see answer/relevance.ts). A word the
 * corpus has never seen can only be covered through a cross-language equivalent (思维链 by "chain-of-thought").
 */
export interface Novelty {
  /** Content words in the question, as written (see `writtenWords`). */
  questionWords: number;
  /** The question's never-seen specific words (see `unseenWords`) that this chunk does not cover. */
  uncovered: string[];
}

export function uncoveredWords(
  unseen: readonly string[][],
  docTerms: ReadonlySet<string>,
  alternatives: ReadonlyMap<string, readonly string[]> = new Map(),
): string[] {
  return unseen.filter((spellings) => !spellings.some((t) => docTerms.has(t) || alternatives.get(t)?.some((a) => docTerms.has(a)))).map(([w = ""]) => w);
}
