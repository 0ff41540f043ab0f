import { ENGLISH_FUNCTION_WORDS } from "./function-words.ts";

/**
 * CC-CEDICT senses turned into short English equivalents a passage could contain. A sense is written for a learner
 * ("(of a computer) to run", "CL:個|个[ge4]", "variant of 湧現|涌现[yong3 xian4]", "lit. …"); what a retriever can use is
 * the bare word or phrase ("run"). Cross-references, classifiers, surnames, literal translations and senses marked as
 * literary, dialect, Taiwanese, slang or idiom are dropped: they either have no English of their own or name a sense
 * technical writing does not use. Senses of more than three content words are definitions, not translations
 * ("to emerge in large numbers" would expand 涌现 to "large" and "numbers"), and are dropped too.
 */
export interface Gloss {
  /** Lower-case, without parenthetical notes, leading "to" or articles: "run", "gpu memory", "fine tuning". */
  text: string;
  /** Its content words (function words removed), the unit the English side is matched on. */
  words: string[];
  /** Written as a verb ("to run"): documents inflect it as running / ran. */
  verb: boolean;
  /**
   * Nothing but content words besides articles and placeholders: "run", "graphics memory". A gloss such as "to run
   * into", "to be in operation" or "to search for" is not the translation of its content words alone ("run into" is
   * not "run"), so the reverse index leaves it out.
   */
  exact: boolean;
  /** Qualified as a technical sense ("(computing)", "(math.)", "(of a computer)"): preferred over everyday ones. */
  technical: boolean;
}

// Tested on lower-cased text (case-insensitive alternations are markedly slower over 200k senses).
const DROP_SENSE =
  /^(?:see |\(?(?:old |archaic |ancient |japanese |erhua |euphemistic )?variant of|also written|also pr\.|also called|taiwan pr\.|pr\. |used in|used for|surname |cl:|classifier|abbr\.|abbreviation|lit\.|\(lit\.|old name|name of|japanese surname)/;
const DROP_REGISTER =
  /\((?:idiom|literary|archaic|old|dialect|onom\.|tw|slang|internet slang|cantonese|classical|derog\.|vulgar|buddhism|taoism|tcm|bird species of china|name|honorific|proverb|japanese surname|constellation|in former times|suffix|prefix)\b[^)]*\)/;
const TECHNICAL = /\((?:of a computer|of software|computing|math\.?|mathematics|statistics|programming|software|electronics|linguistics|physics)\b[^)]*\)/;
const CJK_REFERENCE = /[\u3400-\u9fff\uf900-\ufaff|]+(?:\[[^\]]*\])?/g;
const FIGURATIVE = /^(?:\(fig\.\)|fig\.)\s*/;
const HAS_CJK = /[\u3400-\u9fff\uf900-\ufaff|]/;
const LEADING = /^(?:(?:to|a|an|the|be|become)\s+)+/;
const PLACEHOLDERS: ReadonlySet<string> = new Set(["sb", "sth", "sb's", "sth's", "one's", "oneself", "etc", "a", "an", "the"]);
const PLAIN = /^[a-z][a-z'-]*(?: [a-z'-]+)*$/;
const WORD_BREAK = /[\s-]+/;

function stripNotes(text: string): string {
  let out = text;
  // Nested notes ("(of (sb) sth)") come off from the inside out.
  while (out.includes("(") || out.includes("[")) {
    const next = out.replace(/\([^()]*\)|\[[^[\]]*\]/g, " ");
    if (next === out) break;
    out = next;
  }
  return HAS_CJK.test(out) ? out.replace(CJK_REFERENCE, " ") : out;
}

/**
 * The senses' glosses in dictionary order. With `main`, only the first `main` glosses and the technical ones after
 * them: the reverse index (bilingual-lexicon.ts) uses no others, and cleaning 125k entries in full is most of its cost.
 */
export function cleanGlosses(senses: readonly string[], main = Number.POSITIVE_INFINITY): Gloss[] {
  const out: Gloss[] = [];
  const add = (bare: string, technical: boolean): void => {
    if (DROP_SENSE.test(bare)) return;
    const verb = bare.startsWith("to ");
    const text = bare.replace(LEADING, "");
    const tokens = text.split(WORD_BREAK);
    const words = tokens.filter((w) => w.length > 1 && !ENGLISH_FUNCTION_WORDS.has(w));
    if (words.length === 0 || words.length > 3 || (out.length >= main && !technical)) return;
    const exact = words.length === tokens.filter((w) => !PLACEHOLDERS.has(w)).length;
    const earlier = out.find((g) => g.text === text);
    // 运行 lists "to run" for trains before "(of a computer) to run": the technical reading still counts.
    if (earlier) earlier.technical ||= technical;
    else out.push({ text, words, verb, technical, exact });
  };
  for (const sense of senses) {
    // Most senses are a plain word or phrase ("parameter", "to run"): no notes to strip, nothing to split.
    if (PLAIN.test(sense)) {
      if (out.length < main) add(sense, false);
      continue;
    }
    const trimmed = sense.trim().toLowerCase();
    const noted = trimmed.includes("(");
    if (out.length >= main && !noted) continue;
    if (!trimmed || DROP_SENSE.test(trimmed)) continue;
    if (noted && DROP_REGISTER.test(trimmed)) continue;
    const technical = noted && TECHNICAL.test(trimmed);
    for (const part of trimmed.replace(FIGURATIVE, "").split(";")) {
      const bare = stripNotes(part).replace(/\s+/g, " ").trim();
      if (bare && /^[a-z0-9][a-z0-9 '-]*$/.test(bare)) add(bare, technical);
    }
  }
  return out;
}
