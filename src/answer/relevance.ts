import type { RetrievedChunk } from "../retrieval/hybrid-retriever.ts";

/**
 * The one relevance decision: does the retrieved text plausibly hold the answer? Applied once per retrieval, by the
 * answer service, before any answer is made. Retrieval only measures (coverage signals in retrieval/coverage.ts:
 * the IDF-weighted share of the question's terms a chunk contains, the matched rare-term mass, and the question's
 * specific words the corpus has never seen that the chunk does not cover); every threshold lives here.
 *
 * Verdicts, per retrieval:
 * - `answer`: a chunk covers the question (share ≥ share or mass ≥ mass) and no never-seen specific word of a short
 *   question is left uncovered.
 * - `borderline`: nothing covers it that well, but a chunk covers part of it (share ≥ looseShare or mass ≥ looseMass)
 *   with no never-seen word left uncovered. Offline it is answered when a sentence answers it outright (the extractive
 *   answerer says so), else refused; in LLM mode the model decides.
 * - `unseen`: the chunks share words with the question, but a short question asks about a specific word the knowledge
 *   base has never seen (思维链 over notes that never mention it): a near miss. Refused offline; in LLM mode the model
 *   is asked, since a cross-language or paraphrased mention may still answer it.
 * - `off-topic`: no chunk covers even a small part of the question (weather, sport, cooking over LLM notes). Refused
 *   in every mode, before any model is asked.
 *
 * Calibrated on the calibration half of bench/data/user-questions (npm run bench:answers) with the earlier sets of
 * npm run bench:abstain; the held-out half is reported, never tuned on (docs/benchmarks.md).
 */
export type Verdict = "answer" | "borderline" | "unseen" | "off-topic";

export interface RelevanceSettings {
  share: number;
  mass: number;
  looseShare: number;
  looseMass: number;
  /** Below both, the question is off-topic. */
  topicalShare: number;
  topicalMass: number;
  /** A question of at most this many content words is short: every specific word in it is part of what is asked. */
  shortQuestionWords: number;
}

export const RELEVANCE: RelevanceSettings = {
  share: 0.55,
  mass: 1.5,
  looseShare: 0.3,
  looseMass: 0.7,
  topicalShare: 0.2,
  topicalMass: 0.45,
  shortQuestionWords: 6,
};

export interface RelevanceDecision {
  verdict: Verdict;
  /** The chunks that back the verdict (for `answer`/`borderline`), in retrieval order; empty otherwise. */
  supporting: RetrievedChunk[];
}

const share = (c: RetrievedChunk) => Math.max(c.signals.coverage.words.share, c.signals.coverage.bigrams.share);
const mass = (c: RetrievedChunk) => c.signals.coverage.words.mass;

const covers = (c: RetrievedChunk, s: RelevanceSettings) => share(c) >= s.share || mass(c) >= s.mass;
const coversNovel = (c: RetrievedChunk, s: RelevanceSettings) =>
  c.signals.coverage.novel.questionWords > s.shortQuestionWords || c.signals.coverage.novel.uncovered.length === 0;

export function coversQuestion(c: RetrievedChunk): boolean {
  return covers(c, RELEVANCE);
}

/** False when a short question asks about a word the knowledge base has never seen and the chunk does not cover it. */
export function coversNovelWords(c: RetrievedChunk): boolean {
  return coversNovel(c, RELEVANCE);
}

export function judgeRelevance(chunks: readonly RetrievedChunk[], s: RelevanceSettings = RELEVANCE): RelevanceDecision {
  const strong = chunks.filter((c) => covers(c, s) && coversNovel(c, s));
  if (strong.length) return { verdict: "answer", supporting: strong };
  const partly = (c: RetrievedChunk) => share(c) >= s.looseShare || mass(c) >= s.looseMass;
  const loose = chunks.filter((c) => partly(c) && coversNovel(c, s));
  if (loose.length) return { verdict: "borderline", supporting: loose };
  const topical = chunks.some((c) => share(c) >= s.topicalShare || mass(c) >= s.topicalMass);
  return { verdict: topical ? "unseen" : "off-topic", supporting: [] };
}

/** The `answer` verdict alone (what the offline answerer answers without checking its best sentence). */
export function supportsAnswer(c: RetrievedChunk): boolean {
  return coversQuestion(c) && coversNovelWords(c);
}

export const SHORT_QUESTION_WORDS = RELEVANCE.shortQuestionWords;
export const MIN_SHARE = RELEVANCE.share;
export const MIN_MASS = RELEVANCE.mass;
