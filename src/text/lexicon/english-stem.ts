/**
 * A small rule-based English stemmer for matching a question's words with dictionary glosses: "abilities" and
 * "ability", "locally" and "local", "running" and "run", "emergent" and "emerge" reduce to one key. Only inflections
 * and the -ent/-ence family are undone, never -ity or -ation: "perplexity" must not meet "perplexed" (困惑 lists both,
 * and a question about perplexity is not answered by a passage about being puzzled). Both sides of a lookup go through
 * the same function, so the stem only has to be consistent, not a real word.
 */
const IRREGULAR: Readonly<Record<string, string>> = {
  ran: "run",
  made: "make",
  built: "build",
  taught: "teach",
  larger: "large",
  largest: "large",
  children: "child",
  data: "data",
  news: "news",
  series: "series",
  species: "species",
};

const VOWEL = /[aeiouy]/;
const CONSONANT_END = /[b-df-hj-np-tv-z]$/;

/** Undoes a doubled final consonant ("runn" → "run"); returns undefined when there is none. */
function undoubled(stem: string): string | undefined {
  return /([b-df-hj-np-tv-z])\1$/.test(stem) && !/(ll|ss|zz|ff)$/.test(stem) ? stem.slice(0, -1) : undefined;
}

/** Strips -ing/-ed; a short stem gets its silent e back ("used" → "use", "tuning" → "tune"), an undoubled one does not. */
function stripVerbEnding(w: string, ending: string): string {
  const stem = w.slice(0, -ending.length);
  if (stem.length < 2 || !VOWEL.test(stem)) return w;
  const single = undoubled(stem);
  if (single) return single;
  return stem.length <= 3 && CONSONANT_END.test(stem) ? `${stem}e` : stem;
}

export function englishStem(word: string): string {
  let w = word.toLowerCase();
  const irregular = IRREGULAR[w];
  if (irregular) return irregular;
  if (w.length <= 3) return w;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(sses|xes|ches|shes|zes)$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(ss|us|is|as)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith("ing") && w.length > 4) w = stripVerbEnding(w, "ing");
  else if (w.endsWith("ed") && !w.endsWith("eed") && w.length > 3) w = stripVerbEnding(w, "ed");
  if (w.endsWith("ically")) w = w.slice(0, -4);
  else if (w.endsWith("ly") && w.length > 5) w = w.slice(0, -2);
  // emergent / emergence ↔ emerge; the stem keeps at least four letters (agent, parent stay whole). Not -ency
  // (emergency is not emergence) nor -ment, a noun of its own (deployment).
  const ent = /(?<!m)(ent|ence)$/.exec(w);
  if (ent && w.length - ent[0].length >= 4) w = w.slice(0, -ent[0].length);
  if (w.endsWith("e") && w.length > 4) w = w.slice(0, -1);
  if (w.endsWith("y") && w.length > 4 && !VOWEL.test(w.at(-2) ?? "")) w = `${w.slice(0, -1)}i`;
  return w;
}

/** Endings of adjectives and mass nouns, which take no plural ("confused", "quantitative", "data"). */
const NO_PLURAL =
  /(?:ed|ing|ic|ive|ous|ful|less|able|ible|ish|ly|al|ar|ary|ory)$|^(?:data|information|knowledge|software|hardware|research|equipment|evidence|advice|progress)$/;
const IRREGULAR_PAST: Readonly<Record<string, string>> = {
  run: "ran",
  make: "made",
  build: "built",
  take: "took",
  give: "gave",
  get: "got",
  write: "wrote",
  find: "found",
  teach: "taught",
  think: "thought",
  choose: "chose",
  hold: "held",
  feed: "fed",
  lead: "led",
  grow: "grew",
};

/**
 * The spellings a document may use for a dictionary gloss: documents are indexed by their surface words, so an
 * expansion of 能力 to "ability" must also say "abilities", and of 运行 to "run" also "running". Regular forms and a
 * few common irregular pasts only; a wrong guess ("infering") costs an unmatched term, nothing more.
 */
export function surfaceForms(gloss: string, isVerb: boolean): string[] {
  const words = gloss.split(" ");
  const last = words.at(-1) ?? "";
  if (!/^[a-z]{3,}$/.test(last) || words.length > 2) return [gloss];
  if (isVerb) {
    if (words.length > 1) return [gloss];
    const consonantY = /[^aeiou]y$/.test(last);
    const stem = last.endsWith("e")
      ? last.slice(0, -1)
      : /^[b-df-hj-np-tv-z]*[aeiou][b-df-hj-np-tv-z]$/.test(last) && !/[wxy]$/.test(last)
        ? last + last.at(-1)
        : last;
    const third = consonantY ? `${last.slice(0, -1)}ies` : /(s|x|ch|sh|z)$/.test(last) ? `${last}es` : `${last}s`;
    const past = IRREGULAR_PAST[last] ?? (consonantY ? `${last.slice(0, -1)}ied` : last.endsWith("e") ? `${last}d` : `${stem}ed`);
    return [gloss, third, `${stem}ing`, past];
  }
  if (NO_PLURAL.test(last) || /[^s]s$/.test(last)) return [gloss];
  const plural = /(s|x|ch|sh|z)$/.test(last) ? `${last}es` : /[^aeiou]y$/.test(last) ? `${last.slice(0, -1)}ies` : `${last}s`;
  return [gloss, words.length > 1 ? `${words[0]} ${plural}` : plural];
}

/**
 * The base forms an inflected word may come from, as real words to look up in an index of surface words ("LLMs" →
 * "llm", "commercially" → "commercial", "wrapping" → "wrap"): the opposite direction of `surfaceForms`. Unlike
 * `englishStem` these are spellings, not keys, so several guesses are returned and a wrong one simply matches nothing.
 */
export function baseFormCandidates(word: string): string[] {
  if (!/^[a-z]{4,}$/.test(word)) return [];
  const out: string[] = [];
  for (const suffix of ["es", "s", "ly", "ing", "ed", "ally"]) {
    if (!word.endsWith(suffix) || word.length - suffix.length < 3) continue;
    const stem = word.slice(0, -suffix.length);
    out.push(stem, `${stem}e`);
    if (/([b-df-hj-np-tv-z])\1$/.test(stem)) out.push(stem.slice(0, -1));
  }
  return out;
}
