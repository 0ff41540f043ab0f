import { splitSentences } from "../ingest/sentences.ts";
import { writtenWords } from "../retrieval/coverage.ts";
import { jaccard } from "../retrieval/fusion.ts";
import type { QueryPlan, RetrievedChunk } from "../retrieval/hybrid-retriever.ts";
import type { KnowledgeIndex } from "../store/knowledge-index.ts";
import type { Tokenizer } from "../text/tokenizer.ts";
import { type AnswerType, answerTypeOf, announcesList, supplies } from "./answer-type.ts";

/**
 * Offline answers: the sentences of the retrieved chunks that best answer the question, each followed by the marker of
 * the chunk it came from. Deterministic; no model.
 *
 * A sentence scores the share of the question's terms it contains (words and CJK bigrams), each term weighted by its
 * IDF in the corpus times how rare it is among the candidate sentences — the question's subject (ChatGLM-6B) is in
 * most candidates, the attribute asked about (显存) in few, and the sentence that has both is the answer. A sentence
 * that supplies the kind of thing asked for (a number for 多少, a date for when, an organisation for 谁做的: see
 * answer-type.ts) gets a bonus; one that restates the question (a question itself, a caption, a heading-like fragment)
 * a penalty. A sentence that announces a list (「包括：」, "Two key phases:") brings its items; a short one its
 * neighbour. When no sentence covers the question well, the answer says these are the closest passages.
 */
export interface ExtractiveSettings {
  maxSentences: number;
  /** A further sentence must score at least this share of the best one. */
  relativeScore: number;
  maxChars: number;
  /** Below this best-sentence coverage the answer is introduced as "the closest passages". */
  directShare: number;
}

export const DEFAULT_EXTRACTIVE: ExtractiveSettings = { maxSentences: 4, relativeScore: 0.85, maxChars: 480, directShare: 0.34 };

/** Items taken after a sentence that announces a list. */
const MAX_LIST_ITEMS = 8;
/** How much more a term counts when it occurs in few of the candidate sentences (capped ratio, see above). */
const MAX_DISCRIMINATION = 2.5;
const TYPE_BONUS = 0.12;
/** A sentence's score: this share from its own coverage of the question, the rest from its chunk's. */
const SENTENCE_WEIGHT = 0.65;

export interface Sentence {
  text: string;
  words: ReadonlySet<string>;
  bigrams: ReadonlySet<string>;
}

export interface Candidate {
  chunk: number;
  order: number;
  score: number;
  share: number;
  sentence: Sentence;
}

export interface ExtractiveAnswer {
  /** Sentences with `[n]` markers; n indexes `chunks`. */
  answer: string;
  /** Indexes (into the retrieved chunks) of the chunks cited, in citation order. */
  cited: number[];
  /** False when no sentence answered outright and the answer gives the closest passages. */
  direct: boolean;
  /** The best sentence supplies the kind of thing the question asks for (a date for "when"…; see answer-type.ts). */
  supplies: boolean;
  /** The question asks for a number or a date. */
  wantsFigure: boolean;
}

function clean(sentence: string): string {
  return sentence
    .replace(/^[\s>*+-]+/, "")
    .replace(/\s+/g, " ")
    .trim();
}

const CONTINUES_PREVIOUS =
  /^(?:所以|因此|因而|故而|由此|于是|这样|这使得|这也|这是|这种|该|其|它|此外|therefore|thus|hence|so,|this|that|these|it|which)(?![a-z])/i;

const CAPTION = /^(?:\d{1,3}\s+[A-Z]|(?:fig(?:ure)?|table|图|表)\s*\.?\s*\d)/i;

/** Multiplier for sentences that make poor answers on their own. */
function formPenalty(text: string, type: AnswerType, novelTokens: number): number {
  let f = 1;
  if (/[？?]$/.test(text)) f *= 0.55; // a question in the document restates, it does not answer
  if (CAPTION.test(text) && text.length < 80) f *= 0.6;
  if (novelTokens < 2 && !announcesList(text)) f *= 0.7; // says nothing the question did not
  if (text.length > 300) f *= 0.85; // tables, run-on PDF lines
  if (text.length < 14 && type !== "number" && type !== "date") f *= 0.85;
  return f;
}

/** Every candidate sentence of the retrieved chunks, best first (see the scoring above). */
interface Unit {
  /** Tokens that spell the word ("chatglm-6b", "chatglm6b"). */
  spellings: string[];
  /** Tokens that are parts of it ("chatglm", "6b"): partial credit. */
  parts: string[];
  /** A Chinese word's character bigrams: partial credit when the document cuts it differently. */
  bigrams: string[];
}

/** Credit for a part of a question word (ChatGLM for ChatGLM-6B, half the bigrams of 涌现能力). */
const PART_CREDIT = 0.6;

function questionUnits(plan: QueryPlan, tokenizer: Tokenizer): Unit[] {
  const written = writtenWords(plan.own.words);
  const units: Unit[] = written.map((spellings) => {
    const head = spellings[0] ?? "";
    const parts = /[\u3400-\u9fff]/.test(head) ? [] : plan.own.words.filter((t) => t !== head && !spellings.includes(t) && head.includes(t) && t.length >= 2);
    const bigrams = /[\u3400-\u9fff]/.test(head) && head.length >= 2 ? tokenizer.analyze(head).bigrams : [];
    return { spellings, parts, bigrams };
  });
  // Words the written-word rule leaves out (single characters such as 钱, numbers) still count, as themselves.
  const inUnits = new Set(units.flatMap((u) => [...u.spellings, ...u.parts]));
  for (const t of new Set(plan.own.words)) if (!inUnits.has(t)) units.push({ spellings: [t], parts: [], bigrams: [] });
  return units;
}

export function rankSentences(
  plan: QueryPlan,
  chunks: readonly RetrievedChunk[],
  index: KnowledgeIndex,
  tokenizer: Tokenizer,
  question: string,
): { candidates: Candidate[]; perChunk: Sentence[][]; type: AnswerType } {
  const type = answerTypeOf(question);
  const perChunk: Sentence[][] = chunks.map((chunk) =>
    // Sentence analyses depend only on the chunk, so they are computed once per snapshot.
    index.memoize(`sentences:${chunk.id}`, () =>
      splitSentences(chunk.text)
        .map((raw) => clean(raw))
        .filter((text) => text.length > 0)
        .map((text) => {
          const a = tokenizer.analyze(text);
          return { text, words: new Set(a.words), bigrams: new Set(a.bigrams) };
        }),
    ),
  );
  const pool = perChunk.flat().filter((s) => s.text.length >= 6);
  if (pool.length === 0) return { candidates: [], perChunk, type };

  // The question's words as written: "ChatGLM-6B" is one unit (its tokens chatglm-6b, chatglm, 6b, chatglm6b would
  // otherwise outweigh the attribute 显存 four to one). A unit's weight = corpus IDF × rarity among the candidates.
  const units = questionUnits(plan, tokenizer);
  const present = (u: Unit, s: Sentence): number => {
    if (u.spellings.some((t) => s.words.has(t) || plan.alternatives.get(t)?.some((a) => s.words.has(a)))) return 1;
    if (u.parts.length && u.parts.some((t) => s.words.has(t))) return PART_CREDIT;
    if (u.bigrams.length >= 1) {
      const n = u.bigrams.filter((b) => s.bigrams.has(b)).length;
      return n === u.bigrams.length ? 1 : (PART_CREDIT * n) / u.bigrams.length;
    }
    return 0;
  };
  const weights = units.map((u) => {
    const idf = Math.max(...u.spellings.map((t) => index.words.idf(t)), ...u.bigrams.map((b) => index.bigrams.idf(b)));
    let n = 0;
    for (const s of pool) if (present(u, s) > 0) n++;
    return idf * Math.min(MAX_DISCRIMINATION, 1 + Math.log((pool.length + 1) / (n + 1)) / 2);
  });
  const total = weights.reduce((a, b) => a + b, 0);
  const queryTokens = new Set([...plan.own.words, ...plan.own.bigrams]);

  const candidates: Candidate[] = [];
  perChunk.forEach((sentences, c) => {
    const chunk = chunks[c];
    if (!chunk) return;
    // The chunk's own coverage stands for the context a sentence inherits (its section is about 文心一言 even when the
    // sentence says only 「由百度开发」): a sentence from a chunk about another subject must not win on the attribute.
    const chunkShare = Math.max(chunk.signals.coverage.words.share, chunk.signals.coverage.bigrams.share);
    sentences.forEach((sentence, order) => {
      if (sentence.text.length < 6) return;
      let covered = 0;
      units.forEach((u, i) => {
        covered += (weights[i] ?? 0) * present(u, sentence);
      });
      const own = total > 0 ? covered / total : 0;
      if (own <= 0) return;
      const share = SENTENCE_WEIGHT * own + (1 - SENTENCE_WEIGHT) * chunkShare;
      let novel = 0;
      for (const t of sentence.words) if (!queryTokens.has(t)) novel++;
      const bonus = supplies(type, sentence.text) ? TYPE_BONUS : 0;
      const rank = 0.05 * (1 - c / chunks.length);
      candidates.push({ chunk: c, order, share, sentence, score: (share + bonus + rank) * formPenalty(sentence.text, type, novel) });
    });
  });
  candidates.sort((a, b) => b.score - a.score || a.chunk - b.chunk || a.order - b.order);
  return { candidates, perChunk, type };
}

export function extractAnswer(
  plan: QueryPlan,
  chunks: readonly RetrievedChunk[],
  index: KnowledgeIndex,
  tokenizer: Tokenizer,
  settings: ExtractiveSettings = DEFAULT_EXTRACTIVE,
  question = "",
): ExtractiveAnswer | undefined {
  const { candidates, perChunk, type } = rankSentences(plan, chunks, index, tokenizer, question);
  const best = candidates[0];
  if (!best) return undefined;

  const picked: Candidate[] = [best];
  let chars = best.sentence.text.length;
  const take = (c: Candidate): void => {
    picked.push(c);
    chars += c.sentence.text.length;
  };
  const isPicked = (chunk: number, order: number) => picked.some((p) => p.chunk === chunk && p.order === order);
  const follow = (from: Candidate, max: number): void => {
    const sentences = perChunk[from.chunk] ?? [];
    for (let o = from.order + 1, n = 0; o < sentences.length && n < max; o++, n++) {
      const s = sentences[o];
      if (!s || isPicked(from.chunk, o)) continue;
      if (chars + s.text.length > settings.maxChars && n > 0) break;
      take({ chunk: from.chunk, order: o, score: 0, share: 0, sentence: s });
    }
  };
  // A sentence that draws a conclusion from, or refers back to, the one before it (所以…, 这…, "This is why…") needs it.
  const previous = perChunk[best.chunk]?.[best.order - 1];
  if (previous && CONTINUES_PREVIOUS.test(best.sentence.text) && previous.text.length >= 6) {
    picked.unshift({ chunk: best.chunk, order: best.order - 1, score: 0, share: 0, sentence: previous });
    chars += previous.text.length;
  }
  // A sentence that announces a list is nothing without its items; a short one that does not supply the answer
  // usually continues in the next sentence.
  if (announcesList(best.sentence.text)) follow(best, MAX_LIST_ITEMS);
  else if (best.sentence.text.length < 40 && !supplies(type, best.sentence.text)) follow(best, 1);

  // Up to maxSentences - 1 more sentences that score nearly as well (list items and neighbours do not count).
  let extra = 0;
  for (const c of candidates.slice(1)) {
    if (extra >= settings.maxSentences - 1) break;
    if (c.score < best.score * settings.relativeScore) break;
    if (isPicked(c.chunk, c.order) || chars + c.sentence.text.length > settings.maxChars) continue;
    if (picked.some((p) => jaccard(p.sentence.bigrams, c.sentence.bigrams) > 0.5)) continue;
    take(c);
    extra++;
    if (announcesList(c.sentence.text)) follow(c, MAX_LIST_ITEMS);
  }

  // Sentences from one chunk read best in document order, chunks in the order their best sentence ranked.
  const cited: number[] = [];
  for (const p of picked) if (!cited.includes(p.chunk)) cited.push(p.chunk);
  picked.sort((a, b) => cited.indexOf(a.chunk) - cited.indexOf(b.chunk) || a.order - b.order);

  const limit = Math.max(settings.maxChars, 120);
  const parts: string[] = [];
  picked.forEach((p, i) => {
    const text = p.sentence.text.length > limit ? `${p.sentence.text.slice(0, limit - 1)}…` : p.sentence.text;
    const next = picked[i + 1];
    // One marker after each run of sentences from the same chunk.
    parts.push(next && next.chunk === p.chunk ? text : `${text} [${cited.indexOf(p.chunk) + 1}]`);
  });
  const direct = best.share >= settings.directShare;
  return {
    answer: parts.join(announcesList(best.sentence.text) ? "\n" : " "),
    cited,
    direct,
    supplies: type !== "other" && supplies(type, best.sentence.text),
    wantsFigure: type === "number" || type === "date",
  };
}
