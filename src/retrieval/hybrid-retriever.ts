import type { EmbeddingModel } from "../providers/embedding-model.ts";
import type { ChunkRecord } from "../store/chunk-record.ts";
import type { KnowledgeIndex } from "../store/knowledge-index.ts";
import { crossLanguageExpansions } from "../text/glossary.ts";
import { stripQueryBoilerplate } from "../text/stopwords.ts";
import type { Analysis, Tokenizer } from "../text/tokenizer.ts";
import { type Coverage, type Novelty, nameLikeIn, termCoverage, uncoveredWords, unseenWords, writtenWords } from "./coverage.ts";
import { jaccard, reciprocalRankFusion } from "./fusion.ts";

export interface RetrievedChunk extends ChunkRecord {
  /** Fused relevance in [0, 1] (1 = ranked first by every signal). */
  score: number;
  signals: {
    /** Cosine similarity of the query and chunk vectors, when the chunk was a dense candidate. */
    dense?: number;
    /** BM25 over jieba words, when the chunk was a lexical candidate. */
    bm25?: number;
    /**
     * IDF-weighted share of the question's own words / CJK bigrams found in this chunk, and the question's never-seen
     * specific words this chunk does not cover (see coverage.ts).
     */
    coverage: { words: Coverage; bigrams: Coverage; novel: Novelty };
    ranks: Record<string, number>;
  };
}

/** A snapshot the retriever reads: one index and the query embedder that matches it. */
export interface SearchSnapshot {
  index: KnowledgeIndex;
  embedder: EmbeddingModel;
}

export interface RetrieverSettings {
  /** Candidates taken from each list before fusion. */
  candidates: number;
  weights: { dense: number; words: number; bigrams: number };
  /** Chunks whose bigram sets overlap at least this much with a better one are dropped as near-duplicates. */
  duplicateThreshold: number;
  /** BM25 weight of terms added by cross-language expansion (the query's own terms weigh 1). */
  expansionWeight: number;
  /** BM25 weight of Latin-script names in the query (LLaMA, ChatGLM): in mixed Chinese text these are the entities. */
  latinNameWeight: number;
}

export const DEFAULT_RETRIEVER_SETTINGS: RetrieverSettings = {
  candidates: 50,
  weights: { dense: 1, words: 1, bigrams: 1 },
  duplicateThreshold: 0.9,
  expansionWeight: 1,
  latinNameWeight: 2,
};

export interface QueryPlan {
  words: string[];
  bigrams: string[];
  weights: Map<string, number>;
  /** The query's own terms, before cross-language expansion. */
  own: Analysis;
  /** Own term → its cross-language equivalents' tokens. */
  alternatives: Map<string, string[]>;
  /** Chinese glossary terms found in the query (思维链, even when the word cut splits it) → their equivalents' tokens. */
  glossaryTerms: Map<string, string[]>;
}

/** Query terms plus cross-language expansions, with per-term BM25 weights. */
export function planQuery(tokenizer: Tokenizer, query: string, settings: Pick<RetrieverSettings, "expansionWeight" | "latinNameWeight">): QueryPlan {
  const own: Analysis = tokenizer.analyzeQuery(query);
  const weights = new Map<string, number>();
  const alternatives = new Map<string, string[]>();
  const glossaryTerms = new Map<string, string[]>();
  if (settings.latinNameWeight !== 1) {
    for (const w of own.words) if (/[a-z]{3,}/.test(w)) weights.set(w, settings.latinNameWeight);
  }
  const expansions = settings.expansionWeight > 0 ? crossLanguageExpansions(stripQueryBoilerplate(query)) : [];
  if (expansions.length === 0) return { words: own.words, bigrams: own.bigrams, weights, own, alternatives, glossaryTerms };
  const known = new Set([...own.words, ...own.bigrams]);
  const words = [...own.words];
  const bigrams = [...own.bigrams];
  const add = (list: string[], terms: readonly string[], weight = 1): void => {
    for (const t of new Set(terms)) {
      if (known.has(t)) continue;
      known.add(t);
      list.push(t);
      weights.set(t, settings.expansionWeight * weight);
    }
  };
  for (const e of expansions) {
    const extra = tokenizer.analyze(e.equivalents.join("\n"));
    add(words, extra.words, e.weight);
    add(bigrams, extra.bigrams, e.weight);
    // For coverage, a matched term counts as present when one of its equivalents is.
    const from = tokenizer.analyze(e.matched);
    for (const t of [...from.words, ...from.bigrams]) alternatives.set(t, [...(alternatives.get(t) ?? []), ...extra.words, ...extra.bigrams]);
    if (/[\u3400-\u9fff]/.test(e.matched)) glossaryTerms.set(e.matched, [...extra.words, ...extra.bigrams]);
  }
  return { words, bigrams, weights, own, alternatives, glossaryTerms };
}

export interface SearchRequest {
  query: string;
  k: number;
  signal?: AbortSignal;
}

/**
 * Dense (HNSW) + lexical (BM25 over jieba words and over CJK bigrams) retrieval, fused with reciprocal rank fusion,
 * near-duplicates collapsed.
 */
export class HybridRetriever {
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly settings: RetrieverSettings = DEFAULT_RETRIEVER_SETTINGS,
  ) {}

  plan(query: string): QueryPlan {
    return planQuery(this.tokenizer, query, this.settings);
  }

  async search(snapshot: SearchSnapshot, req: SearchRequest, plan: QueryPlan = this.plan(req.query)): Promise<RetrievedChunk[]> {
    const { index, embedder } = snapshot;
    const live = index.chunks.length;
    if (live === 0) return [];
    const k = Math.max(1, Math.min(req.k, live));
    const pool = Math.max(this.settings.candidates, k * 4);

    const queryVector = await embedder.embedQuery(req.query, req.signal);
    req.signal?.throwIfAborted();
    // A neighbour with similarity ≈ 0 shares nothing with the question (the local embedder's vectors are sparse, so
    // many chunks tie at exactly 0): it is no evidence, and which of the tied chunks a graph returns differs between
    // stores. Only real neighbours take part in the fusion.
    const dense = (await index.vectors.search(queryVector, pool, req.signal)).filter((n) => n.similarity > 1e-6);
    const words = index.words.search(plan.words, pool, plan.weights);
    const bigrams = index.bigrams.search(plan.bigrams, pool, plan.weights);

    const { weights } = this.settings;
    const fused = reciprocalRankFusion([
      { name: "dense", weight: weights.dense, ids: dense.map((n) => n.label) },
      { name: "words", weight: weights.words, ids: words.map((d) => d.doc) },
      { name: "bigrams", weight: weights.bigrams, ids: bigrams.map((d) => d.doc) },
    ]);

    // The question's specific words the corpus has never seen (the relevance decision uses them for short questions).
    const written = writtenWords(plan.own.words);
    const unseen = unseenWords(
      written,
      { word: (t) => index.words.idf(t) < index.words.maxIdf, bigram: (b) => index.bigrams.idf(b) < index.bigrams.maxIdf },
      plan.glossaryTerms,
      nameLikeIn(req.query),
    );
    const equivalents = new Map([...plan.alternatives, ...plan.glossaryTerms]);

    const denseById = new Map(dense.map((n) => [n.label, n.similarity]));
    const bm25ById = new Map(words.map((d) => [d.doc, d.score]));
    const picked: RetrievedChunk[] = [];
    const pickedSets: ReadonlySet<string>[] = [];
    for (const item of fused) {
      if (picked.length >= k) break;
      const chunk = index.slots[item.id];
      if (!chunk) continue;
      const sets = index.tokenSets(item.id);
      const set = sets.bigrams;
      if (pickedSets.some((s) => jaccard(s, set) >= this.settings.duplicateThreshold)) continue;
      pickedSets.push(set);
      const d = denseById.get(item.id);
      const b = bm25ById.get(item.id);
      const coverage = {
        words: termCoverage(plan.own.words, sets.words, (t) => index.words.idf(t), index.words.maxIdf, plan.alternatives),
        bigrams: termCoverage(plan.own.bigrams, set, (t) => index.bigrams.idf(t), index.bigrams.maxIdf, plan.alternatives),
        novel: { questionWords: written.length, uncovered: uncoveredWords(unseen, sets.words, equivalents) },
      };
      picked.push({
        ...chunk,
        score: item.score,
        signals: { ...(d === undefined ? {} : { dense: d }), ...(b === undefined ? {} : { bm25: b }), coverage, ranks: item.ranks },
      });
    }
    return picked;
  }
}
