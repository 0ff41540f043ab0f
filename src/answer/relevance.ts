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
 * Why 2: questions in the notes' domain about a concept the notes do not contain ("什么是思维链提示？", "构建知识库时
 * 文档应该怎样分块？", "How can I tell if my fine-tuned model is overfitting?") share their other words (提示, 知识库,
 * fine-tuned…) with some chunk and passed rule 1 with an unrelated answer. In a short question every specific word is part of what is asked, so a word the
 * knowledge base has never seen means it holds nothing about the question. Everyday words the notes happen not to use
 * (到底, 背后, 图片) are not specific (coverage.ts, COMMON_WORD_IDF). Long questions — the LLM-written pumpkin questions
 * have a median of 13 content words — routinely carry never-seen incidental words (详细描述, 物理意义), so there rule 1
 * alone decides.
 *
 * Calibrated with `npm run bench:abstain` (bench/data): 64 on-topic survey questions over docs-corpus and the 55 pumpkin
 * dev questions over the pumpkin book; 40 off-topic questions (weather, sport, cooking…) over both; near misses (48 over
 * docs-corpus, 40 over the book) in a calibration half and a held-out half. Rule 1 alone (0.55 / 1.5, unchanged):
 * 53/64 + 51/55 on-topic answered, 80/80 off-topic refused, near misses refused 34/44 (calibration) and 40/44
 * (held-out). Rules 1 + 2: 52/64 + 51/55 answered (the one lost, 「什么是涌现能力？」, had been answered from the
 * unrelated 「…正在涌现」), 80/80 off-topic, near misses 41/44 (calibration) and 42/44 (held-out) refused. Chosen on
 * the calibration half and the on-topic sets: short = ≤ 6 words (coverage.ts, SHORT_QUESTION_WORDS; 4 and 5 refuse
 * 1–2 fewer near misses, 8 loses a pumpkin question, 9 two); everyday = general-language IDF < 8 (COMMON_WORD_IDF;
 * 7–9 give the same, 6 refuses 2 chatty on-topic questions, 0 — every never-seen word counts — refuses 4). The tables
 * are in docs/benchmarks.md.
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
