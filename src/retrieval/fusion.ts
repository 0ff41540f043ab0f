/**
 * Weighted reciprocal rank fusion (Cormack et al., 2009): each list contributes weight / (k0 + rank).
 * Rank-based, so BM25 scores and cosine similarities need no calibration against each other.
 */
export interface RankedList {
  name: string;
  weight: number;
  /** Item ids, best first. */
  ids: readonly number[];
}

export interface FusedItem {
  id: number;
  /** Fused score normalised to [0, 1]: 1 means first in every list. */
  score: number;
  ranks: Record<string, number>;
}

export const RRF_K = 60;

export function reciprocalRankFusion(lists: readonly RankedList[], k0 = RRF_K): FusedItem[] {
  const scores = new Map<number, FusedItem>();
  let max = 0;
  for (const list of lists) {
    max += list.weight / (k0 + 1);
    list.ids.forEach((id, i) => {
      let item = scores.get(id);
      if (!item) {
        item = { id, score: 0, ranks: {} };
        scores.set(id, item);
      }
      item.score += list.weight / (k0 + i + 1);
      item.ranks[list.name] = i + 1;
    });
  }
  const out = [...scores.values()];
  for (const item of out) item.score = max > 0 ? item.score / max : 0;
  // Ties break on id so results are deterministic.
  return out.sort((a, b) => b.score - a.score || a.id - b.id);
}

/** Jaccard similarity of two token sets. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const t of small) if (large.has(t)) inter++;
  return inter / (a.size + b.size - inter);
}
