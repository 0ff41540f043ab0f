/**
 * Okapi BM25 over pre-tokenised documents. Built in memory from stored token lists (cheap: ~2 ms per 10k tokens),
 * so the on-disk format is just the tokens and stays independent of scoring parameters.
 */
export interface Bm25Params {
  k1: number;
  b: number;
}

export interface ScoredDoc {
  doc: number;
  score: number;
}

interface Postings {
  docs: Int32Array;
  tfs: Float32Array;
  /** The term's IDF, computed once at build (it depends only on the corpus). */
  idf: number;
}

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  /** Per document, `k1 · (1 − b + b · length / average length)`: the length part of BM25's denominator. */
  private readonly lengthNorm: Float64Array;
  readonly size: number;
  private readonly liveSize: number;
  private readonly params: Bm25Params;
  /** Score accumulator and its touched flags, reused by every search (a search runs to the end synchronously). */
  private readonly acc: Float64Array;
  private readonly seen: Uint8Array;

  constructor(docs: readonly (readonly string[])[], params: Bm25Params = { k1: 1.2, b: 0.75 }) {
    this.params = params;
    this.size = docs.length;
    const docLength = new Float32Array(docs.length);
    const lists = new Map<string, { docs: number[]; tfs: number[] }>();
    let total = 0;
    docs.forEach((tokens, d) => {
      docLength[d] = tokens.length;
      total += tokens.length;
      const tf = new Map<string, number>();
      for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const [t, n] of tf) {
        let list = lists.get(t);
        if (!list) {
          list = { docs: [], tfs: [] };
          lists.set(t, list);
        }
        list.docs.push(d);
        list.tfs.push(n);
      }
    });
    // Tombstones (empty token lists) do not count towards the average length or the document count used by IDF.
    const nonEmpty = docs.reduce((n, d) => n + (d.length > 0 ? 1 : 0), 0);
    const avgLength = nonEmpty ? total / nonEmpty : 0;
    this.liveSize = nonEmpty;
    const { k1, b } = params;
    this.lengthNorm = new Float64Array(docs.length);
    for (let d = 0; d < docs.length; d++) this.lengthNorm[d] = k1 * (1 - b + (b * (docLength[d] ?? 0)) / (avgLength || 1));
    for (const [t, l] of lists) {
      this.postings.set(t, { docs: Int32Array.from(l.docs), tfs: Float32Array.from(l.tfs), idf: this.idfOf(l.docs.length) });
    }
    this.acc = new Float64Array(docs.length);
    this.seen = new Uint8Array(docs.length);
  }

  private idfOf(df: number): number {
    return Math.log(1 + (this.liveSize - df + 0.5) / (df + 0.5));
  }

  /** The IDF of a term the corpus has never seen: the upper bound of `idf`. */
  get maxIdf(): number {
    return Math.log(1 + (this.liveSize + 0.5) / 0.5);
  }

  idf(term: string): number {
    return this.postings.get(term)?.idf ?? this.idfOf(0);
  }

  /**
   * Top `limit` documents for the query terms, best first (ties: lower document first). A term repeated in the query
   * counts once per occurrence; `weights` scales a term's contribution (default 1). `scores`, when given and large
   * enough, is used as the accumulator instead of the index's own.
   */
  search(terms: readonly string[], limit: number, weights?: ReadonlyMap<string, number>, scores?: Float64Array): ScoredDoc[] {
    if (this.size === 0 || terms.length === 0 || limit <= 0) return [];
    const acc = scores && scores.length >= this.size ? scores.fill(0, 0, this.size) : this.acc;
    const seen = this.seen;
    const { k1 } = this.params;
    const qtf = new Map<string, number>();
    for (const t of terms) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    const touched: number[] = [];
    for (const [term, q] of qtf) {
      const p = this.postings.get(term);
      if (!p) continue;
      const idf = p.idf * (weights?.get(term) ?? 1);
      const { docs, tfs } = p;
      for (let i = 0; i < docs.length; i++) {
        const d = docs[i] as number;
        const tf = tfs[i] as number;
        const norm = tf + (this.lengthNorm[d] as number);
        if (seen[d] === 0) {
          seen[d] = 1;
          touched.push(d);
        }
        acc[d] = (acc[d] as number) + q * idf * ((tf * (k1 + 1)) / norm);
      }
    }
    // The best `limit` kept in order (score descending, then document ascending) as they come; most fail at once.
    const n = Math.min(Math.floor(limit), touched.length);
    const bestScore = new Float64Array(n);
    const bestDoc = new Int32Array(n);
    let kept = 0;
    for (const d of touched) {
      const score = acc[d] as number;
      seen[d] = 0;
      if (acc === this.acc) acc[d] = 0;
      if (!(score > 0)) continue;
      if (kept === n) {
        const ws = bestScore[n - 1] as number;
        if (score < ws || (score === ws && d > (bestDoc[n - 1] as number))) continue;
      } else {
        kept++;
      }
      let i = kept - 1;
      while (i > 0) {
        const s = bestScore[i - 1] as number;
        if (s > score || (s === score && (bestDoc[i - 1] as number) < d)) break;
        bestScore[i] = s;
        bestDoc[i] = bestDoc[i - 1] as number;
        i--;
      }
      bestScore[i] = score;
      bestDoc[i] = d;
    }
    const results: ScoredDoc[] = [];
    for (let i = 0; i < kept; i++) results.push({ doc: bestDoc[i] as number, score: bestScore[i] as number });
    return results;
  }

  /** Whether any query term occurs in the corpus at all. */
  knows(term: string): boolean {
    return this.postings.has(term);
  }
}
