import { type CedictEntry, parseCedict, readCedictText } from "./cedict-source.ts";
import { cleanGlosses, type Gloss } from "./clean-gloss.ts";
import { englishStem, surfaceForms } from "./english-stem.ts";
import { isChineseFunctionWord } from "./function-words.ts";
import { type JiebaEntries, readJiebaEntries } from "./jieba-dictionary.ts";

/**
 * Chinese ↔ English word translations from CC-CEDICT, for cross-language query expansion (see ../glossary.ts).
 *
 * Precision over recall: an expansion that makes a passage look relevant when it is not turns a "nothing relevant"
 * into a wrong answer, so each side gives few, specific equivalents with a weight that says how much to trust them.
 * - zh → en: a Chinese word of two or more characters (single characters are too ambiguous: 行 is "to walk", "row",
 *   "OK" and "bank") gives at most MAX_EQUIVALENTS of its first senses, technical senses first.
 * - en → zh: an English word or phrase, as content-word stems, gives the Chinese words having it as a whole sense
 *   ("to run", not "to run a business"), and only where that sense is among the word's first ones or marked technical:
 *   困惑 lists "perplexity" fifth, after "bewildered" and "perplexed", so "perplexity" (the metric) does not become 困惑.
 *   Among many candidates (dozens of Chinese words have the sense "to run") the most common ones in general Chinese
 *   (jieba's dictionary) are kept; a word jieba does not list (or hardly counts) is never offered, since documents,
 *   cut by jieba, would not hold it as a word.
 */
export interface LexiconMatch {
  /** Equivalents in the other language, most specific first; English ones with the inflections a document may use. */
  equivalents: string[];
  /** How specific the match is, in (0, 1]: a word with one sense weighs more than one with many. */
  weight: number;
}

export interface BilingualLexicon {
  /** English for a Chinese word, undefined when the dictionary has nothing specific. */
  toEnglish(word: string): LexiconMatch | undefined;
  /** Chinese for an English word or phrase given as its content words' stems (see `englishStem`). */
  toChinese(stems: readonly string[]): LexiconMatch | undefined;
}

/** Equivalents kept per word: enough for the usual two or three translations, few enough to keep noise out. */
export const MAX_EQUIVALENTS = 3;
/** An English sense this far down a Chinese word's list is a side meaning (困惑: 5th, "perplexity"). */
const MAIN_SENSES = 3;
/** Weights of the dictionary layer stay below the hand glossary's 1: it is broad, not curated. */
const PHRASE_WEIGHT = 0.6;
const WORD_WEIGHT = 0.45;
/** A technical sense ("(of a computer) to run") is what a question over technical notes means, wherever it is listed. */
const TECHNICAL_BONUS = 2;
/** A sense listed first is the word's main meaning; the dictionary orders senses by importance. */
const POSITION_BONUS = [1.5, 0.75, 0.25];

/**
 * jieba counts below this are words general Chinese hardly uses (骈俪 for "parallel"); the technical ones a question
 * would be answered by are above it (显存 8, 余弦 32). Skipping the rest also keeps the reverse index's build short.
 */
const MIN_FREQUENCY = 5;

const CHINESE_WORD = /^[\u3400-\u9fff]{2,}$/u;

/** Each further word sharing the sense (or sense sharing the word) makes any one of them a less certain translation. */
const specificity = (alternatives: number) => 1 / (1 + 0.2 * Math.max(0, alternatives - 1));

/**
 * Retrieval and coverage match an expansion word by word, so a three-word definition ("red braised pork" for 红烧肉)
 * would let any passage saying "red" cover the word; translations of one or two words are kept.
 */
const MAX_TRANSLATION_WORDS = 2;

function rankSenses(glosses: readonly Gloss[]): Gloss[] {
  const main = glosses.filter((g, i) => (i < MAIN_SENSES || g.technical) && g.words.length <= MAX_TRANSLATION_WORDS);
  return main.sort((a, b) => Number(b.technical) - Number(a.technical));
}

export function buildBilingualLexicon(
  entries: Iterable<CedictEntry>,
  // Without jieba's dictionary (tests building from a few entries), every word counts as a common content word.
  jieba: (words: readonly string[]) => JiebaEntries = (words) => ({
    frequency: new Int32Array(words.length).fill(1000),
    functionWord: new Uint8Array(words.length),
  }),
): BilingualLexicon {
  // Senses stay as written until needed: a question has a handful of words, the dictionary 90k.
  const words: string[] = [];
  const senses: string[] = [];
  const indexOf = new Map<string, number>();
  for (const e of entries) {
    if (e.proper || !CHINESE_WORD.test(e.simplified) || isChineseFunctionWord(e.simplified)) continue;
    const at = indexOf.get(e.simplified);
    if (at === undefined) {
      indexOf.set(e.simplified, words.length);
      words.push(e.simplified);
      senses.push(e.senses);
    } else senses[at] = `${senses[at]}/${e.senses}`;
  }

  const { frequency, functionWord } = jieba(words);

  const glossCache = new Map<string, Gloss[]>();
  const glossesOf = (word: string): Gloss[] => {
    let glosses = glossCache.get(word);
    if (!glosses) {
      const at = indexOf.get(word);
      glosses = at === undefined || functionWord[at] ? [] : cleanGlosses(senses[at]!.split("/"));
      if (glossCache.size >= 10_000) glossCache.clear();
      glossCache.set(word, glosses);
    }
    return glosses;
  };

  // The reverse index needs every entry's main senses cleaned: it is built on the first English lookup, so a process
  // that only sees Chinese questions never pays for it. Only the best few words per key are kept as it goes.
  const reverseIndex = () => {
    // Per English key: how many words have the sense, and the best MAX_EQUIVALENTS of them with their scores, in flat
    // arrays (slot * MAX_EQUIVALENTS + rank): 60k keys as small objects made the build twice as slow through GC.
    const slots = new Map<string, number>();
    const counts: number[] = [];
    const lastWord: string[] = [];
    const best: (string | undefined)[] = [];
    const scores: number[] = [];
    for (let i = 0; i < words.length; i++) {
      const f = frequency[i] ?? 0;
      if (f < MIN_FREQUENCY || functionWord[i]) continue;
      const word = words[i]!;
      const raw = senses[i]!.split("/");
      const glosses = cleanGlosses(raw, MAIN_SENSES);
      for (let position = 0; position < glosses.length; position++) {
        const g = glosses[position]!;
        if (!g.exact) continue;
        const key = g.words.length === 1 ? englishStem(g.words[0]!) : g.words.map(englishStem).join(" ");
        const score = (g.technical ? TECHNICAL_BONUS : 0) + (POSITION_BONUS[position] ?? 0) + Math.log10(f + 1) - 0.1 * raw.length;
        let slot = slots.get(key);
        if (slot === undefined) {
          slot = counts.length;
          slots.set(key, slot);
          counts.push(0);
          lastWord.push("");
          for (let r = 0; r < MAX_EQUIVALENTS; r++) {
            best.push(undefined);
            scores.push(Number.NEGATIVE_INFINITY);
          }
        }
        // A word's senses are visited together, so the key's last word tells a repeat ("to run; to run (of a
        // computer)") from a new candidate.
        if (lastWord[slot] === word) continue;
        lastWord[slot] = word;
        counts[slot]!++;
        const base = slot * MAX_EQUIVALENTS;
        for (let r = 0; r < MAX_EQUIVALENTS; r++) {
          if (score <= scores[base + r]!) continue;
          for (let m = MAX_EQUIVALENTS - 1; m > r; m--) {
            best[base + m] = best[base + m - 1];
            scores[base + m] = scores[base + m - 1]!;
          }
          best[base + r] = word;
          scores[base + r] = score;
          break;
        }
      }
    }
    return { slots, counts, best };
  };
  let chinese: ReturnType<typeof reverseIndex> | undefined;

  return {
    toEnglish(word) {
      const glosses = glossesOf(word);
      const chosen = rankSenses(glosses).slice(0, MAX_EQUIVALENTS);
      if (chosen.length === 0) return undefined;
      const base = [...word].length >= 3 ? PHRASE_WEIGHT : WORD_WEIGHT;
      return { equivalents: [...new Set(chosen.flatMap((g) => surfaceForms(g.text, g.verb)))], weight: base * specificity(glosses.length) };
    },
    toChinese(stems) {
      chinese ??= reverseIndex();
      const key = stems.join(" ");
      const slot = chinese.slots.get(key);
      if (slot === undefined) return undefined;
      const equivalents = chinese.best.slice(slot * MAX_EQUIVALENTS, (slot + 1) * MAX_EQUIVALENTS).filter((w): w is string => w !== undefined);
      return { equivalents, weight: (stems.length > 1 ? PHRASE_WEIGHT : WORD_WEIGHT) * specificity(chinese.counts[slot]!) };
    },
  };
}

let shared: BilingualLexicon | undefined;

/**
 * The CC-CEDICT lexicon, built on first use and shared by the whole process like jieba's dictionary: it is immutable,
 * and building one per retriever would multiply the cost for nothing (≈ 0.25 s, then ≈ 0.4 s for the reverse index on
 * the first English question; ≈ 30 MB of heap).
 */
export function cedictLexicon(): BilingualLexicon {
  shared ??= buildBilingualLexicon(parseCedict(readCedictText()), readJiebaEntries);
  return shared;
}
