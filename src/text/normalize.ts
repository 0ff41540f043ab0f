/**
 * Text normalisation shared by loaders, the tokeniser and the chunker.
 * NFKC folds full-width Latin/digits (ＧＰＴ４ → GPT4) and the compatibility radicals PDFs often emit (⽠ → 瓜), but
 * full-width Chinese punctuation (，：；（）！？) is left alone: NFKC would turn it into ASCII, which reads badly in
 * Chinese snippets. The tokeniser applies full NFKC itself, so matching is unaffected.
 */
// Only the marks Chinese prose uses as punctuation. Full-width "．－＋／％" fold like letters and digits do: left alone
// they break numbers and names ("３．２" → "3．2", which the PDF heading rule cannot read; "ＧＰＴ－４" → "GPT－4").
const FULLWIDTH_PUNCT = /([！＂＇（），：；？［］｛｝～｟｠]+)/;

export function nfkcKeepCjkPunctuation(text: string): string {
  const parts = text.split(FULLWIDTH_PUNCT);
  // split() with a capture group alternates: even indexes are ordinary text, odd ones the punctuation runs.
  return parts.map((p, i) => (i % 2 === 0 ? p.normalize("NFKC") : p)).join("");
}

export function normalizeText(text: string): string {
  return (
    nfkcKeepCjkPunctuation(text)
      // U+FFFD marks glyphs an extractor could not map; it only adds noise.
      .replace(/\uFFFD/g, "")
      // Lone surrogates and C0 controls (except tab/newline) are noise from broken extractors.
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, "")
      .replace(/[\uD800-\uDFFF]/g, (c, i: number, s: string) => {
        const code = c.charCodeAt(0);
        const next = s.charCodeAt(i + 1);
        const prev = s.charCodeAt(i - 1);
        if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) return c;
        if (code >= 0xdc00 && prev >= 0xd800 && prev <= 0xdbff) return c;
        return "";
      })
      .replace(/\r\n?/g, "\n")
      .replace(/\u00A0|\u3000/g, " ")
  );
}

/** Collapse runs of blank lines and trailing spaces; keeps paragraph breaks. */
export function tidyWhitespace(text: string): string {
  return text
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
export function hasCjk(text: string): boolean {
  return CJK.test(text);
}
