import { dict } from "@node-rs/jieba/dict.js";

/**
 * How often each of `words` occurs in general Chinese, from jieba's dictionary (lines "word freq tag"), aligned with
 * `words`; 0 for a word it does not list. CC-CEDICT does not order the many Chinese words that translate "run" or "local"; the common
 * one (运行, 本地) is the one a document uses.
 *
 * The 5 MB table is scanned as bytes and each line's word hashed as it goes, instead of decoding it into 350k strings:
 * that is what keeps the lexicon's first use within its time budget (see bilingual-lexicon.ts).
 */
export interface JiebaEntries {
  frequency: Int32Array;
  functionWord: Uint8Array;
}

/** Parts of speech (ICTCLAS tags, first letter) that carry no topic. */
const FUNCTION_TAGS = new Set(["t", "r", "d", "b", "m", "q", "p", "c", "u", "f", "e", "y", "o", "h", "k", "x"].map((t) => t.charCodeAt(0)));

export function readJiebaEntries(words: readonly string[]): JiebaEntries {
  // An open-addressing table of word indices keyed by one hash and confirmed by a second: a Map of 90k keys probed
  // 350k times was most of the scan's cost.
  let size = 1;
  while (size < words.length * 2) size <<= 1;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  const checks = new Int32Array(words.length);
  for (let index = 0; index < words.length; index++) {
    const w = words[index]!;
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    let at = h1 & mask;
    while (table[at] !== -1) at = (at + 1) & mask;
    table[at] = index;
    checks[index] = h2;
  }
  const frequency = new Int32Array(words.length);
  const functionWord = new Uint8Array(words.length);
  const bytes = dict;
  let i = 0;
  while (i < bytes.length) {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    // The word: UTF-8 decoded to UTF-16 code units on the fly, hashed like the strings above.
    while (i < bytes.length && bytes[i] !== 0x20 && bytes[i] !== 0x0a) {
      const b = bytes[i]!;
      let c: number;
      if (b < 0x80) {
        c = b;
        i += 1;
      } else if (b < 0xe0) {
        c = ((b & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
        i += 2;
      } else if (b < 0xf0) {
        c = ((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
        i += 3;
      } else {
        // Outside the BMP: no CC-CEDICT headword we look up, so any value that differs from a BMP unit will do.
        c = 0x10000 + (b & 0x07);
        i += 4;
      }
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    let freq = 0;
    if (bytes[i] === 0x20) {
      i++;
      while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) freq = freq * 10 + bytes[i++]! - 0x30;
    }
    const tag = bytes[i] === 0x20 ? (bytes[i + 1] ?? 0) : 0;
    for (let at = h1 & mask; table[at] !== -1; at = (at + 1) & mask) {
      const index = table[at]!;
      if (checks[index] !== h2) continue;
      frequency[index] = freq;
      functionWord[index] = FUNCTION_TAGS.has(tag) ? 1 : 0;
    }
    while (i < bytes.length && bytes[i] !== 0x0a) i++;
    i++;
  }
  return { frequency, functionWord };
}
