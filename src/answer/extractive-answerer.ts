import { splitSentences } from "../ingest/sentences.ts";
import { jaccard } from "../retrieval/fusion.ts";
import type { QueryPlan, RetrievedChunk } from "../retrieval/hybrid-retriever.ts";
import type { KnowledgeIndex } from "../store/knowledge-index.ts";
import type { Tokenizer } from "../text/tokenizer.ts";
import { termCoverage } from "../retrieval/coverage.ts";

/**
 * Offline answers: the sentences of the retrieved chunks that best cover the question, each followed by the marker
 * of the chunk it came from. Deterministic; no model. A sentence scores the IDF-weighted share of the question's terms
 * it contains (words and CJK bigrams), plus a little for coming from a higher-ranked chunk; the best one is always
 * taken, up to two more when they score nearly as well and say something new.
 */
export interface ExtractiveSettings {
  maxSentences: number;
  /** A further sentence must score at least this share of the best one. */
  relativeScore: number;
  maxChars: number;
}

export const DEFAULT_EXTRACTIVE: ExtractiveSettings = { maxSentences: 3, relativeScore: 0.85, maxChars: 420 };

interface Candidate {
  text: string;
  chunk: number;
  order: number;
  score: number;
  bigrams: ReadonlySet<string>;
}

export interface ExtractiveAnswer {
  /** Sentences with `[n]` markers; n indexes `chunks`. */
  answer: string;
  /** Indexes (into the retrieved chunks) of the chunks cited, in citation order. */
  cited: number[];
}

function clean(sentence: string): string {
  return sentence
    .replace(/^[\s>*+-]+/, "")
    .replace(/\s+/g, " ")
    .trim();
}

export function extractAnswer(
  plan: QueryPlan,
  chunks: readonly RetrievedChunk[],
  index: KnowledgeIndex,
  tokenizer: Tokenizer,
  settings: ExtractiveSettings = DEFAULT_EXTRACTIVE,
): ExtractiveAnswer | undefined {
  const candidates: Candidate[] = [];
  chunks.forEach((chunk, c) => {
    // Sentence analyses depend only on the chunk, so they are computed once per snapshot.
    const sentences = index.memoize(`sentences:${chunk.id}`, () =>
      splitSentences(chunk.text)
        .map((raw) => clean(raw))
        .map((text) => {
          const a = tokenizer.analyze(text);
          return { text, words: new Set(a.words), bigrams: new Set(a.bigrams) };
        }),
    );
    sentences.forEach(({ text, words: wordSet, bigrams: bigramSet }, order) => {
      if (text.length < 6) return;
      const words = termCoverage(plan.own.words, wordSet, (t) => index.words.idf(t), index.words.maxIdf, plan.alternatives);
      const bigrams = termCoverage(plan.own.bigrams, bigramSet, (t) => index.bigrams.idf(t), index.bigrams.maxIdf, plan.alternatives);
      const share = (words.share + bigrams.share) / 2;
      if (share <= 0) return;
      // Very long "sentences" (tables, run-on PDF lines) are penalised: they make poor answers.
      const lengthPenalty = text.length > 300 ? 0.85 : 1;
      candidates.push({ text, chunk: c, order, score: (share + 0.05 * (1 - c / chunks.length)) * lengthPenalty, bigrams: bigramSet });
    });
  });
  if (candidates.length === 0) return undefined;
  candidates.sort((a, b) => b.score - a.score || a.chunk - b.chunk || a.order - b.order);

  const best = candidates[0];
  if (!best) return undefined;
  const picked: Candidate[] = [best];
  let chars = Math.min(best.text.length, settings.maxChars);
  for (const c of candidates.slice(1)) {
    if (picked.length >= settings.maxSentences) break;
    if (c.score < best.score * settings.relativeScore) break;
    if (chars + c.text.length > settings.maxChars) continue;
    if (picked.some((p) => jaccard(p.bigrams, c.bigrams) > 0.5)) continue;
    picked.push(c);
    chars += c.text.length;
  }

  // Sentences from one chunk read best in document order, after the chunk's best sentence.
  const cited: number[] = [];
  for (const p of picked) if (!cited.includes(p.chunk)) cited.push(p.chunk);
  picked.sort((a, b) => cited.indexOf(a.chunk) - cited.indexOf(b.chunk) || a.order - b.order);

  const parts = picked.map((p) => {
    const text = p.text.length > settings.maxChars ? `${p.text.slice(0, settings.maxChars - 1)}…` : p.text;
    return `${text} [${cited.indexOf(p.chunk) + 1}]`;
  });
  return { answer: parts.join(" "), cited };
}
