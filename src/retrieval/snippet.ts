/**
 * A short excerpt of a chunk centred on where the query's terms are densest, so a citation shows why it matched.
 */
export function makeSnippet(text: string, terms: readonly string[], max = 240): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const lower = flat.toLowerCase();
  const hits: number[] = [];
  for (const t of new Set(terms)) {
    if (t.length < 2 && !/[\u3400-\u9fff]/.test(t)) continue;
    let at = lower.indexOf(t);
    while (at >= 0 && hits.length < 500) {
      hits.push(at);
      at = lower.indexOf(t, at + t.length);
    }
  }
  let start = 0;
  if (hits.length) {
    hits.sort((a, b) => a - b);
    // Slide a window over the hit positions and keep the one covering the most hits.
    let best = 0;
    let j = 0;
    for (let i = 0; i < hits.length; i++) {
      while ((hits[i] ?? 0) - (hits[j] ?? 0) > max * 0.8) j++;
      if (i - j + 1 > best) {
        best = i - j + 1;
        start = Math.max(0, (hits[j] ?? 0) - Math.floor(max * 0.15));
      }
    }
  }
  start = Math.min(start, flat.length - max);
  const body = flat.slice(start, start + max).trim();
  return `${start > 0 ? "…" : ""}${body}${start + max < flat.length ? "…" : ""}`;
}
