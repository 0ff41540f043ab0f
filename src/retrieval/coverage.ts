/**
 * How much of the question a chunk covers, from the query's own terms (not expansions):
 * - `share`: the IDF-weighted share of the question's terms found in the chunk. Rare terms dominate, so a chunk that
 *   shares only common words ("模型", "learn") with the question scores low. Terms the corpus has never seen count
 *   with the highest IDF: a question about 足球 over LLM notes is mostly made of such terms.
 * - `mass`: the summed IDF of the matched terms in units of the highest possible IDF — roughly "how many rare terms
 *   matched". Long questions (many words besides the topic) have a low share but a high mass when on topic.
 */
export interface Coverage {
  share: number;
  mass: number;
}

export function termCoverage(
  queryTerms: readonly string[],
  docTerms: ReadonlySet<string>,
  idf: (term: string) => number,
  maxIdf: number,
  alternatives: ReadonlyMap<string, readonly string[]> = new Map(),
): Coverage {
  let total = 0;
  let covered = 0;
  for (const t of new Set(queryTerms)) {
    const w = idf(t);
    total += w;
    // A term written in the other language (上下文长度 ↔ context length) covers it too.
    if (docTerms.has(t) || alternatives.get(t)?.some((a) => docTerms.has(a))) covered += w;
  }
  return { share: total > 0 ? covered / total : 0, mass: maxIdf > 0 ? covered / maxIdf : 0 };
}
