/** Chinese, Japanese and Korean characters: matched as substrings, since they have no spaces between words. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** Latin words and numbers: "GPT-4", "7B", "LLaMA". */
const WORD = /[A-Za-z0-9]+(?:[-.+_][A-Za-z0-9]+)*/g;
const ALNUM = /[A-Za-z0-9]/;
const TRAILING = /[\s\p{P}]/u;
const STOP_WORDS = new Set(
  "a an and are as at be by can did do does for from has have how in is it its of on or the that this to was were what when where which who why with".split(
    " ",
  ),
);

export type Range = [start: number, end: number];

/**
 * Chinese (and Japanese/Korean) text has no spaces: mark each maximal substring of the snippet that starts with a CJK
 * character and occurs in the question ("星河-7B", "的上下文长度"), trimmed of trailing spaces and punctuation, when at
 * least 2 characters remain.
 */
function cjkRanges(snippet: string, question: string): Range[] {
  const ranges: Range[] = [];
  let i = 0;
  while (i < snippet.length) {
    let best = 0;
    if (CJK.test(snippet[i] ?? "")) {
      // A longer substring cannot occur in the question if this one does not.
      for (let len = 1; i + len <= snippet.length && question.includes(snippet.slice(i, i + len)); len++) best = len;
    }
    while (best > 0 && TRAILING.test(snippet[i + best - 1] ?? "")) best--;
    if (best >= 2) {
      ranges.push([i, i + best]);
      i += best;
    } else i++;
  }
  return ranges;
}

function wordRanges(snippet: string, question: string): Range[] {
  const lower = snippet.toLowerCase();
  const words = new Set((question.match(WORD) ?? []).map((w) => w.toLowerCase()).filter((w) => w.length >= 2 && !STOP_WORDS.has(w)));
  const ranges: Range[] = [];
  for (const w of words) {
    for (let at = lower.indexOf(w); at >= 0; at = lower.indexOf(w, at + 1)) {
      const end = at + w.length;
      if (ALNUM.test(snippet[at - 1] ?? "") || ALNUM.test(snippet[end] ?? "")) continue;
      ranges.push([at, end]);
    }
  }
  return ranges;
}

/** Where the snippet shares words with the question: overlapping and touching ranges merged, in order. */
export function highlightRanges(snippet: string, question: string): Range[] {
  const all = [...cjkRanges(snippet, question), ...wordRanges(snippet, question)].sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const r of all) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}
