import { SHORT_QUESTION_WORDS } from "../retrieval/coverage.ts";
import type { RetrievedChunk } from "../retrieval/hybrid-retriever.ts";

export { SHORT_QUESTION_WORDS };

/**
 * The "nothing relevant" rule. A retrieved chunk supports an answer when
 * 1. it covers enough of the question (see retrieval/coverage.ts): an IDF-weighted share ≥ MIN_SHARE of the question's
 *    terms, or matched rare terms worth ≥ MIN_MASS "unseen-term" IDFs (long questions carry many words besides their
 *    topic, which lowers the share); and
 * 2. in a short question (≤ SHORT_QUESTION_WORDS content words), it covers every specific word of the question that
 *    the knowledge base has never seen — which only a cross-language equivalent can do (思维链 ← "chain-of-thought").
 *
 * Why 2: questions in the notes' domain about a concept the notes do not contain ("什么是思维链提示？", "What is
 * GraphRAG?", "困惑度是怎么计算的？") share their generic words (提示, 模型, 训练, 检索…) with many chunks and passed
 * rule 1 with an unrelated answer. In a short question every specific word is part of what is asked, so a word the
 * knowledge base has never seen means it holds nothing about the question. Everyday words the notes happen not to use
 * (到底, 背后, 图片) are not specific (coverage.ts, COMMON_WORD_IDF). Long questions — the LLM-written pumpkin questions
 * have a median of 13 content words — routinely carry never-seen incidental words (详细描述, 物理意义), so there rule 1
 * alone decides.
 *
 * Calibrated with `npm run bench:abstain` (bench/data: CALIBRATION_PLACEHOLDER). The table is in docs/benchmarks.md.
 */
export const MIN_SHARE = 0.55;
export const MIN_MASS = 1.5;

/** Rule 1 alone: the chunk covers enough of the question's terms. */
export function coversQuestion(chunk: RetrievedChunk): boolean {
  const { words, bigrams } = chunk.signals.coverage;
  return Math.max(words.share, bigrams.share) >= MIN_SHARE || words.mass >= MIN_MASS;
}

/** Rule 2 alone: false when a short question asks about a word the knowledge base has never seen and the chunk does not cover. */
export function coversNovelWords(chunk: RetrievedChunk): boolean {
  const { novel } = chunk.signals.coverage;
  return novel.questionWords > SHORT_QUESTION_WORDS || novel.uncovered.length === 0;
}

export function supportsAnswer(chunk: RetrievedChunk): boolean {
  return coversQuestion(chunk) && coversNovelWords(chunk);
}
