/**
 * The model's own "the sources do not hold the answer" (LLM mode). The system prompt asks for one fixed reply:
 *
 *   [NO_ANSWER] 知识库中没有找到这个问题的答案。        (Chinese question)
 *   [NO_ANSWER] The knowledge base does not contain the answer.   (English question)
 *
 * Why a marker *and* a sentence: the marker is ASCII, language-neutral and bracketed like the tokens models are
 * trained to copy verbatim, so GLM, Qwen, DeepSeek, GPT and llama3 reproduce it without translating or rephrasing it,
 * and it comes first, so a stream needs to hold back only its first few characters to hide it. The sentence is what
 * the user reads once the marker is removed, and a second signal for the models that drop the marker (small local
 * models often do, especially when they switch language); an exact sentence alone would be fragile, because models
 * retouch punctuation, translate it or prefix 「抱歉，」. So detection accepts the marker anywhere, and otherwise a
 * first sentence that says the sources lack the answer in either language — but never an answer that cites a source:
 * "part of it is missing, but X [1]" is a partial answer, not an abstention.
 */

export const NO_ANSWER_MARKER = "[NO_ANSWER]";

/** The sentence that follows the marker, in the question's language. */
export const NO_ANSWER_SENTENCE = {
  zh: "知识库中没有找到这个问题的答案。",
  en: "The knowledge base does not contain the answer.",
} as const;

/** A `[n]` citation: an answer that cites a source is an answer, whatever else it says. */
const CITATION = /\[\d{1,3}\]/;

/**
 * The marker as models write it: `[NO_ANSWER]`, `【NO_ANSWER】`, spaced or lower-case inside the brackets, `NO\_ANSWER`
 * escaped for Markdown, bold or in backticks; bare `NO_ANSWER` only in capitals between word boundaries. Whitespace
 * (and a colon) after it goes with it, so "[NO_ANSWER] The knowledge…" leaves "The knowledge…".
 */
const BRACKETED = /(?:\*{1,2}|`)?(?:\[\s*no\\?_answer\s*\]|【\s*no\\?_answer\s*】)(?:\*{1,2}|`)?[ \t]*[:：]?\s*/gi;
const BARE = /(?:\*{1,2}|`)?(?<![A-Za-z0-9_])NO\\?_ANSWER(?![A-Za-z0-9_])(?:\*{1,2}|`)?[ \t]*[:：]?\s*/g;

export function hasMarker(text: string): boolean {
  BRACKETED.lastIndex = 0;
  BARE.lastIndex = 0;
  return BRACKETED.test(text) || BARE.test(text);
}

export function stripMarker(text: string): string {
  return text.replace(BRACKETED, "").replace(BARE, "");
}

const BRACKETED_AT_END = new RegExp(`(?:${BRACKETED.source})$`, "i");
const BARE_AT_END = new RegExp(`(?:${BARE.source})$`);

function endsWithMarker(text: string): boolean {
  return BRACKETED_AT_END.test(text) || BARE_AT_END.test(text);
}

/**
 * Lower-case words and CJK characters only: full-width forms folded (NFKC), curly apostrophes straightened,
 * punctuation and Markdown dropped, spaces kept only between Latin words. "The knowledge base doesn’t contain the
 * answer!" → "the knowledge base doesn't contain the answer"; "知识库中 没有找到…答案 。" → "知识库中没有找到…答案".
 */
export function normalizeSentence(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[^\p{L}\p{N}'\s]+/gu, " ")
    .replace(/(^|\s)'+|'+(?=\s|$)/g, "$1")
    .replace(/\s+/g, " ")
    .replace(/(?<=[\u3400-\u9fff]) | (?=[\u3400-\u9fff])/g, "")
    .trim();
}

const LEADING_APOLOGY = /^\s*(?:(?:很|非常)?抱歉|对不起|不好意思|(?:i'?m |i am )?sorry|unfortunately)[\s,，。.!！:：]*/i;

/** The first sentence (up to 。！？.!?;； or a line break), after any leading "sorry," / 「抱歉，」. */
export function firstSentence(text: string): string {
  const body = text.trim().replace(LEADING_APOLOGY, "");
  // A full stop between digits ("GLM-4.5") does not end a sentence.
  const end = body.search(/[。！？!?;；\n]|\.(?!\d)/);
  return (end >= 0 ? body.slice(0, end) : body).trim();
}

const EN_SUBJECT = `(?:the |this |these )?(?:provided |given |retrieved |above |available )?(?:knowledge base|sources?|documents?|passages?|materials?|excerpts?|(?:provided|given|retrieved) context|context (?:provided|given))(?: provided| given| above)?`;
const EN_NEG = "(?:does not|doesn't|do not|don't|did not|didn't)";
const EN_PATTERNS: readonly RegExp[] = [
  // the knowledge base does not contain the answer / the sources don't mention Orion-2's licence
  new RegExp(
    `^${EN_SUBJECT} ${EN_NEG} (?:contain|include|provide|have|hold|give|offer|cover|mention|say|state|specify|address|describe|discuss|answer)(?: .{1,80})?$`,
  ),
  // there is no answer (to this question) in the sources / there's no information about X
  /^(?:there is|there's|there are) no (?:answer|information|relevant information|mention|details?)(?: .{1,80})?$/,
  // i could not find the answer in the knowledge base / i cannot answer this from the provided sources
  new RegExp(
    `^i (?:could not|couldn't|cannot|can't|can not|did not|didn't|do not|don't|was unable to|am unable to) (?:find|locate|see)(?: .{1,80})? in ${EN_SUBJECT}$`,
  ),
  new RegExp(`^i (?:could not|couldn't|cannot|can't|can not|am unable to|am not able to) answer(?: .{1,60})? (?:based on|from|with|using) ${EN_SUBJECT}$`),
  // the answer is not in the knowledge base
  new RegExp(`^the answer(?: .{1,60})? (?:is not|isn't) (?:in|contained in|found in|available in|given in|provided in|included in) ${EN_SUBJECT}$`),
  // no answer found in the sources / no relevant information was found / no answer in the knowledge base
  new RegExp(
    `^no (?:answer|information|relevant information)(?: (?:to|for|about|on|regarding) .{1,60}?)?(?: (?:was|could be|is|can be))? (?:found|available|given|provided)(?: in ${EN_SUBJECT})?$`,
  ),
  new RegExp(`^no (?:answer|information|relevant information)(?: (?:to|for|about|on|regarding) .{1,60}?)? in ${EN_SUBJECT}$`),
];
/** A sentence that goes on to contrast ("…, but it was released in 2024") answers something: not an abstention. */
const EN_CONTRAST = /\b(?:but|however|although|though|only|instead|except|whereas|yet)\b/;

const ZH_SUBJECT =
  "(?:所?提供的|给定的|现有的|检索到的|上述|以上|当前|这些)?(?:知识库|资料|参考资料|来源|文档|材料|上下文|参考内容|检索结果)(?:中|里|里面|内)?";
const ZH_OBJECT = "(?:(?:关于|有关|与).{0,30}?)?(?:这个|该|此|本|您的|你的|这一)?(?:问题)?(?:的|相关的)?(?:答案|信息|相关信息|内容|相关内容|回答|说明|记载)";
const ZH_PATTERNS: readonly RegExp[] = [
  // 知识库中没有找到这个问题的答案 / 提供的资料中未包含相关信息 / 文档里找不到关于 X 的信息
  new RegExp(`^(?:在|根据|从)?${ZH_SUBJECT}(?:并|均|都)?(?:没有|未能?|不|无|找不到|查不到)(?:找到|包含|提供|给出|查到|检索到)?${ZH_OBJECT}$`),
  // 文档中没有提到 Orion-2 的许可证
  new RegExp(`^(?:在|根据|从)?${ZH_SUBJECT}(?:并|均|都)?(?:没有|未|并未|没)(?:提到|提及|说明|涉及|介绍|记载|给出|列出)(?:.{1,30})?$`),
  // 我无法在知识库中找到这个问题的答案 / 无法根据提供的资料回答这个问题
  new RegExp(`^(?:我)?(?:无法|不能|没能|未能|没法|没有办法)(?:在|从|根据)${ZH_SUBJECT}(?:找到|得到|回答|查到|确定)(?:.{0,30})?$`),
  // 根据提供的资料，无法回答这个问题
  new RegExp(`^(?:在|根据|从)?${ZH_SUBJECT}(?:我)?(?:无法|不能|没法)(?:找到|回答|确定|得出|得到)(?:.{0,30})?$`),
  // 这个问题的答案不在知识库中
  new RegExp(`^(?:这个|该|此)?(?:问题的)?答案(?:并)?(?:不在|没有在|未在|不包含在)${ZH_SUBJECT}$`),
  // 没有找到相关信息
  new RegExp(`^(?:没有|未能?)(?:在${ZH_SUBJECT})?(?:找到|查到)(?:.{0,30}?)(?:答案|信息|相关信息|内容|相关内容)$`),
];
const ZH_CONTRAST = /但|不过|然而|只是|只有|只能|仅|而是|除了/;

const FIXED = new Set(Object.values(NO_ANSWER_SENTENCE).map(normalizeSentence));

/** Whether one sentence says the sources do not hold the answer: a fixed sentence or a close paraphrase, either language. */
export function isAbstentionSentence(sentence: string): boolean {
  const key = normalizeSentence(sentence);
  if (!key) return false;
  if (FIXED.has(key)) return true;
  const chinese = /[\u3400-\u9fff]/.test(key);
  if ((chinese ? ZH_CONTRAST : EN_CONTRAST).test(key)) return false;
  return (chinese ? ZH_PATTERNS : EN_PATTERNS).some((p) => p.test(key));
}

/**
 * Whether a model's answer is an abstention: it cites no source, and it carries the marker or opens with a sentence
 * that says the sources lack the answer (in either language, whatever the question's). Pass the answer after
 * invalid citations are removed (citations.ts), so an invented [9] does not make an abstention an answer.
 */
export function detectAbstention(answer: string): boolean {
  if (CITATION.test(answer)) return false;
  if (hasMarker(answer)) return true;
  return isAbstentionSentence(firstSentence(stripMarker(answer)));
}

/** The marker forms a stream may be in the middle of, compared with whitespace, `\` and case folded. */
const PARTIAL_FORMS = ["[NO_ANSWER]", "【NO_ANSWER】"].flatMap((f) => [`${f}**`, `${f}\``]);
const BARE_FORMS = ["NO_ANSWER**", "NO_ANSWER`"];
/** Looked back this far for a marker that has begun: the longest form, plus decoration and spacing. */
const LOOKBACK = 24;

/** Where a marker may be starting at the end of `text` (with the whitespace and `**`/backtick before it), or -1. */
function partialMarkerStart(text: string): number {
  for (let i = Math.max(0, text.length - LOOKBACK); i < text.length; i++) {
    const tail = text.slice(i);
    const lead = /^\s*(?:\*{1,2}|`)?/.exec(tail)?.[0] ?? "";
    const rest = tail.slice(lead.length);
    if (rest === "") {
      // Only decoration ("**" at the end of a piece) may be the start of "**[NO_ANSWER]**"; bare whitespace is not held.
      if (/[*`]/.test(lead)) return i;
      continue;
    }
    const folded = rest.replace(/[\s\\]/g, "");
    if (folded === "") continue;
    if (PARTIAL_FORMS.some((f) => f.startsWith(folded.toUpperCase()))) return i;
    const before = i + lead.length > 0 ? text[i + lead.length - 1] : undefined;
    if (BARE_FORMS.some((f) => f.startsWith(folded)) && (before === undefined || !/[A-Za-z0-9_]/.test(before))) return i;
  }
  return -1;
}

/**
 * Removes the marker from a streamed answer wherever it appears, so no client ever shows it. A piece that ends where a
 * marker may be starting ("[", "[NO_", "**") is held back until the next piece settles it — at the start of an answer
 * that is the tiny prefix buffer that hides "[NO_ANSWER]" split over several tokens. Joined, the pieces passed on
 * equal `stripMarker(whole answer)` (less an unfinished "[NO_ANS" at the very end).
 */
export function streamingMarkerFilter(): { push(piece: string): string; flush(): string; readonly sawMarker: boolean } {
  let held = "";
  let sawMarker = false;
  // Right after a marker, the spacing that separated it from the sentence is dropped too, even in a later piece.
  let afterMarker = false;
  const pass = (text: string): string => {
    let out = stripMarker(text);
    if (out !== text) sawMarker = true;
    if (afterMarker) out = out.replace(/^\s+/, "");
    if (endsWithMarker(text)) afterMarker = true;
    else if (out !== "") afterMarker = false;
    return out;
  };
  return {
    push(piece) {
      const text = held + piece;
      const cut = partialMarkerStart(text);
      held = cut >= 0 ? text.slice(cut) : "";
      return pass(cut >= 0 ? text.slice(0, cut) : text);
    },
    flush() {
      const rest = held;
      held = "";
      // A stream that ends inside a marker ("[NO_ANS") meant the marker.
      if (/^\s*(?:\*{1,2}|`)?(?:\[|【)?\s*NO\\?_A/i.test(rest)) {
        sawMarker = true;
        return "";
      }
      return pass(rest);
    },
    get sawMarker() {
      return sawMarker;
    },
  };
}
