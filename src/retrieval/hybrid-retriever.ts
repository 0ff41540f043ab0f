import type { EmbeddingModel } from "../providers/embedding-model.ts";
import type { ChunkRecord } from "../store/chunk-record.ts";
import type { KnowledgeIndex } from "../store/knowledge-index.ts";
import type { Tokenizer } from "../text/tokenizer.ts";
import { jaccard, reciprocalRankFusion } from "./fusion.ts";

export interface RetrievedChunk extends ChunkRecord {
  /** Fused relevance in [0, 1] (1 = ranked first by every signal). */
  score: number;
  signals: {
    /** Cosine similarity of the query and chunk vectors, when the chunk was a dense candidate. */
    dense?: number;
    /** BM25 over jieba words, when the chunk was a lexical candidate. */
    bm25?: number;
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
}

export const DEFAULT_RETRIEVER_SETTINGS: RetrieverSettings = {
  candidates: 50,
  weights: { dense: 1, words: 1, bigrams: 1 },
  duplicateThreshold: 0.9,
};

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

  async search(snapshot: SearchSnapshot, req: SearchRequest): Promise<RetrievedChunk[]> {
    const { index, embedder } = snapshot;
    const k = Math.max(1, Math.min(req.k, index.chunks.length));
    if (index.chunks.length === 0) return [];
    const pool = Math.max(this.settings.candidates, k * 4);
    const analysis = this.tokenizer.analyzeQuery(req.query);

    const queryVector = await embedder.embedQuery(req.query, req.signal);
    req.signal?.throwIfAborted();
    const dense = index.hnsw.search(queryVector, pool);
    const words = index.words.search(analysis.words, pool);
    const bigrams = index.bigrams.search(analysis.bigrams, pool);

    const { weights } = this.settings;
    const fused = reciprocalRankFusion([
      { name: "dense", weight: weights.dense, ids: dense.map((n) => n.label) },
      { name: "words", weight: weights.words, ids: words.map((d) => d.doc) },
      { name: "bigrams", weight: weights.bigrams, ids: bigrams.map((d) => d.doc) },
    ]);

    const denseById = new Map(dense.map((n) => [n.label, n.similarity]));
    const bm25ById = new Map(words.map((d) => [d.doc, d.score]));
    const picked: RetrievedChunk[] = [];
    const pickedSets: Set<string>[] = [];
    for (const item of fused) {
      if (picked.length >= k) break;
      const chunk = index.chunks[item.id];
      if (!chunk) continue;
      const set = new Set(index.tokens[item.id]?.bigrams ?? []);
      if (pickedSets.some((s) => jaccard(s, set) >= this.settings.duplicateThreshold)) continue;
      pickedSets.push(set);
      const d = denseById.get(item.id);
      const b = bm25ById.get(item.id);
      picked.push({
        ...chunk,
        score: item.score,
        signals: { ...(d === undefined ? {} : { dense: d }), ...(b === undefined ? {} : { bm25: b }), ranks: item.ranks },
      });
    }
    return picked;
  }
}
