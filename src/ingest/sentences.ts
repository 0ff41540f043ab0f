/**
 * Sentence segmentation for mixed Chinese/English text. A sentence ends after 。！？；(with any closing quotes or brackets
 * that follow), after . ! ? ; followed by white space, or at a line break. Decimal points ("3.5") and
 * abbreviations without a following space do not end sentences.
 */
const TERMINATOR = /(?:[。！？；]+|[.!?;]+(?=\s|$))[”’"'」』）)\]]*|\n+/g;

export function splitSentences(text: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of text.matchAll(TERMINATOR)) {
    const end = (m.index ?? 0) + m[0].length;
    if (end > last) out.push(text.slice(last, end));
    last = end;
  }
  if (last < text.length) out.push(text.slice(last));
  return out.filter((s) => s.length > 0);
}

/** Splits an over-long sentence at clause marks (，、, :) and spaces, falling back to a hard cut. */
export function splitLong(sentence: string, max: number): string[] {
  if (sentence.length <= max) return [sentence];
  const out: string[] = [];
  let rest = sentence;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = -1;
    for (const re of [/[，、,：:]/g, /\s/g]) {
      for (const m of window.matchAll(re)) if ((m.index ?? 0) >= max * 0.4) cut = (m.index ?? 0) + 1;
      if (cut > 0) break;
    }
    if (cut <= 0) cut = max;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest) out.push(rest);
  return out;
}
