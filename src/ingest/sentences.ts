/**
 * Sentence segmentation for mixed Chinese/English text. A sentence ends after 。！？；(with any closing quotes or brackets
 * that follow), after . ! ? ; followed by white space, or at a line break. Decimal points ("3.5") and abbreviations
 * without a following space do not end sentences, and neither does the period of an abbreviation, an initial or a
 * caption label starting its line (see `isAbbreviation`): cutting "Fig. 30 Vicuna fine-tuning strategy" after "Fig."
 * leaves a chunk boundary, and an extractive answer, in the middle of a caption or a citation.
 */
const TERMINATOR = /(?:[。！？；]+|[.!?;]+(?=\s|$))[”’"'」』）)\]]*|\n+/g;

export function splitSentences(text: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of text.matchAll(TERMINATOR)) {
    const at = m.index ?? 0;
    const end = at + m[0].length;
    if (m[0] === "." && isAbbreviation(text, at)) continue;
    if (end > last) out.push(text.slice(last, end));
    last = end;
  }
  if (last < text.length) out.push(text.slice(last));
  return out.filter((s) => s.length > 0);
}

const words = (list: string): ReadonlySet<string> => new Set(list.split(" "));
// Case matters: "p. 7" is a page, "P. Vincent" an initial; "No. 5" a number, "No." an answer.
/** Never the last word of a sentence: "Fig. 3", "e.g. BM25", "vs. GPT-4", "et al. (2023)", "Dr. Smith", "vol. abs/2212". */
const ALWAYS = words("Fig fig Figs figs Eq eq Eqs eqs vs Vs cf Cf viz approx Approx esp incl vol Vol Dr Mr Mrs Ms Prof");
/** Abbreviations only before a number or a reference: "No. 5", "p. 7", "Sec. 3.2", "Ref. [4]" — "No." can also answer. */
const BEFORE_NUMBER = words("no No nos Nos pp p sec Sec ch Ch tab Tab ref Ref refs Refs art Art ca Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec");
/** Abbreviations only when the sentence goes on in lower case: "etc. and", "Google Inc. released". */
const BEFORE_LOWER = words("etc inc Inc ltd Ltd co Co corp Corp jr Jr sr Sr resp");
/** Lower-case words that go on a name after an initial: "D. de Las Casas", "G. van den Driessche". */
const NAME_PARTICLE = /^(?:de|van|von|der|den|del|della|da|di|du|la|le|bin|al)\b/;
const INITIAL_BEFORE = /(?:^|\n[ \t]*(?:[-+*][ \t]+)?|[,;&([\]"“”'‘’][ \t]*|\b(?:and|by)[ \t]+|\.[ \t]+)[A-Z]$/;
/** A numbered caption label starting its line: "Figure 2.", "Fig. 3.", "Table 2.", "图 3." — the caption follows. */
const CAPTION_LABEL = /(?:^|\n)[ \t]*(?:[-+*][ \t]+)?(?:Fig(?:ure)?s?\.?|Tables?|Tab\.|Algorithm|Listing|Chart|图|表)[ \t]*\d+(?:[.-]\d+)*$/i;

/** Whether the period at `dot` (followed by white space) belongs to an abbreviation or a caption label, not a sentence end. */
function isAbbreviation(text: string, dot: number): boolean {
  const before = text.slice(Math.max(0, dot - 80), dot);
  const after = text.slice(dot + 1, dot + 40).trimStart();
  const lower = /^[a-z]/.test(after);
  const number = /^[\d([#]/.test(after);
  if (CAPTION_LABEL.test(before)) return true;
  const word = /(?:^|[^A-Za-z.])((?:[A-Za-z]\.)*[A-Za-z]+)$/.exec(before)?.[1];
  if (!word) return false;
  // Dotted initialisms: "U.S." and "e.g." / "i.e." always go on; "a.m." or "w.r.t." only before lower case.
  if (word.includes(".")) return word === word.toUpperCase() || /^(?:e\.g|i\.e)$/i.test(word) || lower || number;
  if (word === "al") return /\bet\s+al$/.test(before);
  if (ALWAYS.has(word)) return true;
  if (BEFORE_NUMBER.has(word)) return number;
  if (BEFORE_LOWER.has(word)) return lower || number;
  // A single capital before a name is an initial: "J. Smith", "A. Vaswani", "G. van den Driessche" — where initials
  // stand (a line start, after a comma, "and", "by" or another initial), so "PaLM 540B. LLaMA…" and "Plan B. The…" end.
  return /^[A-Z]$/.test(word) && INITIAL_BEFORE.test(before) && (/^[A-Z]/.test(after) || NAME_PARTICLE.test(after));
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
