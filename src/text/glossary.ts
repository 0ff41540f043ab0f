import { cedictLexicon } from "./lexicon/bilingual-lexicon.ts";
import { DOMAIN_ENGLISH_TERMS, domainMatches } from "./lexicon/domain-glossary.ts";
import { englishStem } from "./lexicon/english-stem.ts";
import { ENGLISH_FUNCTION_WORDS, isChineseFunctionWord } from "./lexicon/function-words.ts";
import { createTokenizer, type Tokenizer } from "./tokenizer.ts";

/**
 * Cross-language query expansion: lexical retrieval cannot match 「涌现能力」 with "emergent abilities", and a question
 * in one language over notes written in the other (common in Chinese technical writing) would miss the passage. Two
 * layers, the first match of a word winning:
 * - the domain glossary (lexicon/domain-glossary.ts): hand pairs for ML/LLM vocabulary, weight 1;
 * - CC-CEDICT (lexicon/bilingual-lexicon.ts): the broad layer, for the question's remaining content words, with a
 *   weight below 1 that falls with the number of senses and candidates.
 */
export interface Expansion {
  /** The term found in the query. */
  matched: string;
  /** Its equivalents in the other language. */
  equivalents: string[];
  /** How much to trust the match, in (0, 1]: 1 for the glossary, less for a dictionary word with many senses. */
  weight?: number;
}

/** Longest English phrase looked up as one dictionary sense ("graphics memory", "fine tuning"). */
const MAX_PHRASE = 3;
/**
 * Dictionary matches weighing less than this are dropped, not just down-weighted: coverage (retrieval/coverage.ts)
 * credits a question's word through any of its equivalents whatever their weight, so an ambiguous translation
 * ("language" → 语言/语种/古文, "run" → 运行/经营/奔跑) would let a passage that shares only everyday words look relevant.
 */
export const MIN_DICTIONARY_WEIGHT = 0.3;
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/u;
/** The glossary's English vocabulary as stem sequences: "prompt", "languag model". */
const DOMAIN_STEMS: ReadonlySet<string> = new Set(
  DOMAIN_ENGLISH_TERMS.map((t) =>
    t
      .split(/[\s-]+/)
      .map(englishStem)
      .join(" "),
  ),
);
let tokenizer: Tokenizer | undefined;

/** The query's Chinese content words as the retriever cuts them (jieba), two characters or more. */
function chineseWords(query: string): string[] {
  tokenizer ??= createTokenizer();
  const words = tokenizer.analyzeQuery(query).words.filter((w) => /^[\u3400-\u9fff]{2,}$/u.test(w) && !isChineseFunctionWord(w));
  return [...new Set(words)];
}

/**
 * Runs of English content words, function words skipped ("chain of thought" → chain, thought). A run ends at anything
 * else, and at a name: a word written with a capital inside it or after the run's start (LLaMA, Claude) is an entity,
 * which a dictionary can only mistranslate (Mistral → 密史脱拉风).
 */
function englishRuns(query: string): string[][] {
  const runs: string[][] = [];
  for (const clause of query.normalize("NFKC").split(/[^A-Za-z' -]+/)) {
    let run: string[] = [];
    const end = () => {
      if (run.length > 0) runs.push(run);
      run = [];
    };
    for (const [i, token] of clause
      .split(/[\s-]+/)
      .filter(Boolean)
      .entries()) {
      const lower = token.toLowerCase().replace(/'s$/, "");
      if (/[A-Z]/.test(token.slice(1)) || (i > 0 && /^[A-Z]/.test(token))) end();
      else if (lower.length >= 3 && /^[a-z]+$/.test(lower) && !ENGLISH_FUNCTION_WORDS.has(lower) && !ENGLISH_FUNCTION_WORDS.has(englishStem(lower)))
        run.push(lower);
    }
    end();
  }
  return runs;
}

/** Glossary and dictionary vocabulary found in the query, with its equivalents in the other language. */
export function crossLanguageExpansions(query: string): Expansion[] {
  const lower = query.normalize("NFKC").toLowerCase();
  const out: Expansion[] = domainMatches(lower).map((m) => ({ ...m, weight: 1 }));
  const glossaryChinese = out.map((e) => e.matched).filter((t) => CJK.test(t));
  // Words inside a matched English glossary term are taken; so is any phrase the glossary lists, matched or not.
  const glossaryEnglish = new Set(out.flatMap((e) => (CJK.test(e.matched) ? [] : e.matched.split(/[\s-]+/).map(englishStem))));
  const lexicon = cedictLexicon();

  for (const word of chineseWords(query)) {
    if (glossaryChinese.some((t) => t.includes(word) || word.includes(t))) continue;
    const m = lexicon.toEnglish(word);
    if (m && m.weight >= MIN_DICTIONARY_WEIGHT) out.push({ matched: word, equivalents: m.equivalents, weight: m.weight });
  }

  // English words inside a Chinese question are terms of art ("temperature 参数", "Transformer 中的…") that a general
  // dictionary translates by their everyday sense (温度, 变压器): only the glossary speaks for them.
  if (CJK.test(query)) return out;
  for (const run of englishRuns(query)) {
    const stems = run.map(englishStem);
    for (let i = 0; i < run.length; ) {
      let step = 1;
      for (let n = Math.min(MAX_PHRASE, run.length - i); n >= 1; n--) {
        const span = stems.slice(i, i + n);
        if (span.some((s) => glossaryEnglish.has(s)) || DOMAIN_STEMS.has(span.join(" "))) continue;
        const m = lexicon.toChinese(span);
        if (!m || m.weight < MIN_DICTIONARY_WEIGHT) continue;
        out.push({ matched: run.slice(i, i + n).join(" "), equivalents: m.equivalents, weight: m.weight });
        step = n;
        break;
      }
      i += step;
    }
  }
  return out;
}
