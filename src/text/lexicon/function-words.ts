import { QUERY_STOPWORDS, STOPWORDS } from "../stopwords.ts";

/**
 * Words the lexicon never looks up and never offers as an equivalent: the tokenizer's stopwords and query
 * instruction words, plus the placeholders and light verbs of dictionary glosses ("to do sth for sb", "to make",
 * "one's"). Translating 是 to "to be" or "what" to 什么 adds nothing a passage could be found by; translating "make"
 * or "get" matches half of any text in the other language.
 */
const GLOSS_FILLERS =
  "sb sth sb's sth's one's oneself someone something somebody anything everything etc esp e.g. i.e. lit fig " +
  "thing things kind sort type way lot bit part one ones two first also just only even still yet very much many more most less least some any " +
  "all each every other another same such own up down out off there here now again well too really quite rather almost " +
  "be become get got give go come make put take let keep set see say seem feel know think want like use used using " +
  "good bad big small new old high low long short large little great able unable certain particular general various " +
  "need needs between among within without through during before after above below under via per versus vs unlike " +
  "across along around against toward towards upon onto since until while whether either neither both few several";

export const ENGLISH_FUNCTION_WORDS: ReadonlySet<string> = new Set(
  [...STOPWORDS, ...QUERY_STOPWORDS, ...GLOSS_FILLERS.split(" ")].filter((w) => /^[a-z]/.test(w)),
);

/** Chinese words that are question or quantity words however they are cut (哪款, 多久, 啥样): no topic to translate. */
const QUESTION_MORPHEME = /[谁啥咋哪么吗呢怎嘛]/u;

export function isChineseFunctionWord(word: string): boolean {
  return STOPWORDS.has(word) || QUERY_STOPWORDS.has(word) || QUESTION_MORPHEME.test(word);
}
