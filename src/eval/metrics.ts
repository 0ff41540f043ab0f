/** hit@k and mean reciprocal rank over the rank of the first hit per question (null = no hit in the retrieved list). */
export interface EvalReport {
  questions: number;
  hitAt: Record<string, number>;
  mrr: number;
  /** Depth searched: ranks beyond it count as misses. */
  depth: number;
}

export function summarise(firstHitRanks: readonly (number | null)[], ks: readonly number[]): EvalReport {
  const n = firstHitRanks.length;
  const depth = Math.max(...ks);
  const hitAt: Record<string, number> = {};
  for (const k of ks) hitAt[String(k)] = n ? firstHitRanks.filter((r) => r !== null && r <= k).length / n : 0;
  const mrr = n ? firstHitRanks.reduce<number>((s, r) => s + (r !== null && r <= depth ? 1 / r : 0), 0) / n : 0;
  return { questions: n, hitAt, mrr, depth };
}
