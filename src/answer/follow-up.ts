import type { ChatTurn } from "./types.ts";

/**
 * Offline follow-ups. A question is retrieved together with the previous user question only when it cannot be read
 * alone: gluing "What data was Vicuna trained on?" to an earlier ChatGLM question retrieves ChatGLM passages. A
 * question depends on the previous one when it refers back without an antecedent of its own (它的上下文长度是多少？,
 * how much memory does it need?, the 13B one), has no subject (参数量呢？, 多大？, why?, 具体点), or names a new
 * subject but leaves the predicate to the previous question (那 LLaMA 2 呢？, and PaLM?). It stands alone when it
 * names its own subject, however short (ChatGLM 多大？, 啥是版本空间？).
 *
 * There is no parser: the question is cut into words with a small lexicon of what is *not* a subject (function and
 * question words, predicates, the attributes people ask about such as 参数量 or context length); every other Latin word
 * and every run of two or more unknown CJK characters is a subject. Unknown words therefore count as "stands alone":
 * a missed follow-up loses some context, a false one drags the previous topic's passages into the answer.
 */

type Kind =
  | "pronoun" // refers back: 它, its, the 13B one
  | "demonstrative" // 这个模型, that, those: refers back only when nothing else is the subject
  | "marker" // opens or closes an elliptic question: 那…, 还有…, and…, what about…, …呢
  | "question"
  | "predicate"
  | "attribute" // what is asked about a subject: 参数量, context length
  | "meta" // a request about the previous answer: 为什么, 具体点, more details
  | "addressee" // 你, you: a subject unless the question is a meta request
  | "function"
  | "qualifier" // a size or version after a name: 2, 13B, V1.5
  | "subject";

interface Token {
  kind: Kind;
  start: number;
  end: number;
  cjk: boolean;
}

const lexicon = (entries: Partial<Record<Kind, string>>): Map<string, Kind> => {
  const map = new Map<string, Kind>();
  for (const [kind, words] of Object.entries(entries)) for (const w of words.split(/\s+/)) if (w) map.set(w, kind as Kind);
  return map;
};

const ZH = lexicon({
  function:
    "的 地 得 了 着 过 和 与 跟 同 及 或 或者 以及 而 并 并且 也 都 就 还 又 把 被 让 给 对 对于 关于 从 向 于 以 之 在 里 到 吗 呢 吧 啊 呀 么 嘛 哦 哈 啦 呗 嗯 " +
    "请 请问 问一下 一下 麻烦 想 想问 知道 我 我们 咱们 大家 一共 总共 大概 大约 约 到底 究竟 一般 通常 主要 如果 要是 假如 的话 时 时候 可以 能 能够 会 应该 " +
    "可能 还是 这么 那么 怎么 一口气 一次 最 更 很 非常 特别 不 没 没有 一个 一些 一种 等 等等 其实 尤其 极其 其次 其余 与其 因此 如此 此外 各自 分别 一起 一样",
  pronoun: "它 它们 他 他们 她 她们 其",
  demonstrative: "其中 上述 前者 后者",
  question:
    "什么 啥 多少 哪 哪些 哪个 哪家 哪里 哪儿 哪位 哪种 哪一 哪几 哪年 哪天 几 几个 几种 谁 怎么 怎样 怎么样 咋 咋样 如何 是否 是不是 有没有 能不能 " +
    "可不可以 多 多长 多大 多久 多高 多远 多快 多少钱 何时 什么样 什么时候 几时 最多 最少 最大 最长 最小 最好 啥样",
  predicate:
    "是 有 用 使用 采用 做 训练 训 支持 发布 推出 开发 研发 提出 提到 出 搞 弄 需要 要 占 占用 跑 运行 部署 达到 包括 包含 属于 基于 相当于 比 对比 相比 " +
    "比较 输出 生成 处理 适合 适用 解决 实现 升级 更新 收费 免费 下载 安装 推荐 选择 选 区分 好 好用 靠谱 厉害 强大 流行 有名 出名 先进 便宜 简单 容易 " +
    "复杂 重要 必要 有用 值得 优秀 成功 强 弱",
  attribute:
    "参数量 参数 参数规模 规模 模型大小 大小 尺寸 体积 显存 内存 算力 显卡 硬件 配置 要求 上下文长度 上下文窗口 上下文 窗口 长度 训练数据 训练集 训练语料 " +
    "预训练数据 预训练 语料 数据 数据量 数据集 词表 架构 结构 层数 许可证 许可 协议 价格 费用 成本 价钱 速度 延迟 时间 日期 年份 版本 作者 团队 公司 机构 " +
    "开发者 厂商 来源 出处 官网 地址 链接 论文 性能 表现 效果 准确率 精度 得分 成绩 分数 排名 基准 评测 评分 能力 水平 语言 中文 英文 多语言 开源 闭源 " +
    "商用 优点 缺点 优势 劣势 特点 特性 原理 作用 意思 意义 含义 用途 好处 坏处 局限 局限性 限制 区别 不同 差别 差异 用法 步骤 流程 细节 词元 上限 下限 " +
    "场景 应用 应用场景",
  meta:
    "为什么 为啥 为何 还有 然后 接着 继续 具体 具体点 具体些 具体一点 详细 详细点 详细些 详细一点 展开 说 说说 讲讲 举个例子 举例 举例子 例子 比如 例如 " +
    "比方说 再 多说 多讲 怎么说 真的 是吗 怎么回事 别的 其他 其它 另外 补充",
  addressee: "你 您 你们",
});

const EN = lexicon({
  function:
    "a an the of to in on at by for with from as and or not no but if then than so such about into over also i me my we us our please there here vs " +
    "versus per each any some all both either just only up out off let",
  pronoun: "it its itself they them their theirs themselves he him his she her hers",
  demonstrative: "this that these those",
  question: "what which who whom whose when where how",
  predicate:
    "is are was were be been being am does do did done can could will would should shall may might must has have had need needs needed require requires " +
    "required use uses used using train trains trained run runs running compare compared release released made make makes built build builds developed " +
    "develop develops created create creates perform performs work works mean means get gets got come comes take takes took handle handles generate " +
    "generates output outputs produce produces achieve achieves score scores beat beats based differ differs improve improves mention mentioned say says " +
    "said know tell show give fit fits big bigger biggest large larger largest small smaller smallest long longer longest short fast faster slow slower " +
    "good better best bad worse much many old new newer latest recent different open free cheap expensive original first last available possible popular " +
    "save saves reduce reduces increase increases",
  attribute:
    "parameters parameter params size memory vram ram gpu gpus context length window tokens token data dataset datasets corpus license licence price " +
    "pricing cost costs speed latency architecture performance accuracy benchmark benchmarks date author authors developer developers company paper " +
    "version versions language languages weights vocabulary layers heads dimension dimensions limit limits requirements requirement hardware advantages " +
    "disadvantages advantage disadvantage pros cons difference differences strengths weaknesses features feature purpose meaning results result year " +
    "month time source training",
  meta:
    "why more details detail elaborate example examples instance continue explain expand further specifically specific clarify else really sure again " +
    "summarize summarise describe translate list define rewrite simplify repeat",
  addressee: "you your yours yourself",
});

const ZH_MAX_WORD = Math.max(...[...ZH.keys()].map((w) => w.length));

/** Spans read as one unit before the word cut; the first pattern that covers a position wins. */
const PHRASES: readonly [RegExp, Kind][] = [
  [/^(?:and\s+)?(?:what|how)\s+about\b|^(?:and|so|also|or|but|then)\b/gi, "marker"],
  [/^(?:and\s+)?what\s+if\b|^and\s+if\b/gi, "marker"],
  [/\bthe\s+(?:former|latter)\b|\b(?:the|this|that|these|those)\s+(?:[\w.-]+\s+)?ones?\b/gi, "pronoun"],
  [
    /\b(?:the|this|that|these|those|such)\s+(?:(?:same|other|new|old|latest|base|chat|smaller|larger|bigger|first|second|last|\d+(?:\.\d+)?[kmbt]?)\s+)?(?:models?|methods?|papers?|approach(?:es)?|techniques?|systems?|frameworks?|tools?|compan(?:y|ies)|datasets?|versions?|variants?|things?|notes?|articles?|documents?|docs?|products?|algorithms?|projects?|services?|apps?)\b/gi,
    "demonstrative",
  ],
  // Expletive "it" ("is it possible to…", "how long does it take to…") refers to nothing.
  [/\b(?:is|was)\s+it\s+(?=(?:possible|necessary|true|worth|better|feasible|recommended|safe|ok|okay|hard|easy|normal)\b)/gi, "function"],
  [/\bit(?:['’]s|\s+is|\s+was)\s+(?=(?:possible|necessary|true|worth|better|feasible|recommended|safe|hard|easy|important|normal)\b)/gi, "function"],
  [/\b(?:does|did|will|would)\s+it\s+take\s+(?=to\b)|\bit\s+takes?\s+(?=(?:\w+\s+)?to\b)/gi, "function"],
  [
    /\b(?:tell\s+me|say|talk)\s+more\b|\bmore\s+(?:details?|info(?:rmation)?)\b|\bgo\s+on\b|\bfor\s+(?:example|instance)\b|\bhow\s+so\b|\bin\s+(?:more\s+)?detail\b/gi,
    "meta",
  ],
  // 这个模型 / 该方法 / 那些: a demonstrative with its measure word and a generic noun is one reference, not a subject.
  [
    /(?<![应活本因如彼])(?:这|那|该|此)(?![么外])(?:一)?(?:个|款|种|篇|些|位|家|项|类|部|份|条|段|本|次|样|里|儿|边)?(?:模型|方法|技术|论文|文章|笔记|文档|算法|框架|工具|公司|产品|版本|东西|问题|概念|系统|项目|数据集|指标|机制|结构|架构|方案|思路|网站|平台|团队|人|功能|参数|库)?/g,
    "demonstrative",
  ],
];

const LATIN = /[a-z0-9][a-z0-9.+_'’-]*[a-z0-9]|[a-z0-9]/gi;
const CJK = /[\u3400-\u9fff\uf900-\ufaff]+/g;
const QUALIFIER = /^(?:v?\d+(?:\.\d+)*[kmbt]?|\d+(?:\.\d+)?%|\d+[kmgt]b)$/i;
// 什么是 X / X 是什么 / what is (a) X: X is the subject even when it is an attribute word (什么是上下文窗口？).
const DEFINITION =
  /^(?:什么是|啥是|何为|何谓)|(?:是什么|是啥|指什么|什么意思)[？?。.!！\s]*$|^what(?:['’]s|\s+is|\s+are)\s+(?!(?:the|its|their|this|that|these|those|it|they)\b)/i;

function latinKind(word: string): Kind {
  const w = word
    .toLowerCase()
    .replace(/^(ca|wo)n['’]t$/, (_, s: string) => (s === "ca" ? "can" : "will"))
    .replace(/n['’]t$/, "")
    .replace(/['’](?:s|m|re|ve|ll|d)$/, "");
  const known = EN.get(w);
  if (known) return known;
  if (QUALIFIER.test(w)) return "qualifier";
  if (w.length === 1 && /[a-z]/.test(w)) return "subject";
  // "open-source", "fine-grained": a compound of known words is what its parts are.
  const parts = w.split("-").map((p) => EN.get(p));
  if (parts.length > 1 && parts.every((k) => k !== undefined)) return parts.includes("attribute") ? "attribute" : "predicate";
  return "subject";
}

function cutCjk(text: string, offset: number, out: Token[]): void {
  let unknown = -1;
  const flush = (end: number): void => {
    // A lone unknown character (训 in 训的, 好) is rarely a name; two or more are.
    if (unknown >= 0) out.push({ kind: end - unknown >= 2 ? "subject" : "function", start: offset + unknown, end: offset + end, cjk: true });
    unknown = -1;
  };
  let i = 0;
  while (i < text.length) {
    let len = Math.min(ZH_MAX_WORD, text.length - i);
    while (len > 0 && !ZH.has(text.slice(i, i + len))) len--;
    if (len === 0) {
      if (unknown < 0) unknown = i;
      i++;
      continue;
    }
    flush(i);
    out.push({ kind: ZH.get(text.slice(i, i + len)) ?? "function", start: offset + i, end: offset + i + len, cjk: true });
    i += len;
  }
  flush(text.length);
}

interface Reading {
  text: string;
  tokens: Token[];
  definition: boolean;
}

function read(question: string): Reading {
  const text = question.normalize("NFKC").trim();
  const tokens: Token[] = [];
  const taken = new Array<boolean>(text.length).fill(false);
  for (const [re, kind] of PHRASES) {
    for (const m of text.matchAll(re)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (end === start || taken.slice(start, end).some(Boolean)) continue;
      taken.fill(true, start, end);
      tokens.push({ kind, start, end, cjk: /[\u3400-\u9fff]/.test(m[0]) });
    }
  }
  // Cut what the phrases left: blank out their spans so the word patterns cannot run into them.
  const rest = Array.from({ length: text.length }, (_, at) => (taken[at] ? " " : text[at])).join("");
  for (const m of rest.matchAll(LATIN)) tokens.push({ kind: latinKind(m[0]), start: m.index ?? 0, end: (m.index ?? 0) + m[0].length, cjk: false });
  for (const m of rest.matchAll(CJK)) cutCjk(m[0], m.index ?? 0, tokens);
  tokens.sort((a, b) => a.start - b.start);
  // "quantize it", 量化它: the unknown word right before an object pronoun is its verb, not an antecedent.
  tokens.forEach((t, i) => {
    const before = tokens[i - 1];
    if (t.kind !== "pronoun" || before?.kind !== "subject" || !/^\s?$/.test(text.slice(before.end, t.start))) return;
    const word = text.slice(before.start, before.end);
    if ((!before.cjk && /^(?:it|them)$/i.test(text.slice(t.start, t.end)) && word === word.toLowerCase()) || (before.cjk && word.length === 2)) {
      before.kind = "predicate";
    }
  });
  const definition = DEFINITION.test(text) && !tokens.some((t) => t.kind === "pronoun" || t.kind === "demonstrative");
  if (definition) for (const t of tokens) if (t.kind === "attribute") t.kind = "subject";
  // 那 / 那么 opening a question is "then, what about…", not a demonstrative.
  const first = tokens[0];
  if (first && first.start === 0 && /^(?:那|那么|还有|另外|然后)$/.test(text.slice(first.start, first.end))) first.kind = "marker";
  return { text, tokens, definition };
}

const endsWithNe = (r: Reading): boolean => /呢[\s?？!！。.~～]*$/.test(r.text);
const hasMarker = (r: Reading): boolean => r.tokens.some((t) => t.kind === "marker") || endsWithNe(r);
const isMeta = (r: Reading): boolean => r.tokens.some((t) => t.kind === "meta");
const hasSubject = (r: Reading): boolean => r.tokens.some((t) => t.kind === "subject" || (t.kind === "addressee" && !isMeta(r)));
const hasPredicate = (r: Reading): boolean => r.tokens.some((t) => ["question", "predicate", "attribute", "meta"].includes(t.kind));
/** A pronoun with no subject before it in the question: 它 in 那它跟 ChatGPT 比呢, not its in "What is BM25 and its cost?". */
const danglingPronoun = (r: Reading): boolean => {
  const p = r.tokens.find((t) => t.kind === "pronoun");
  return p !== undefined && !r.tokens.some((t) => t.kind === "subject" && t.end <= p.start);
};
/** 那如果用 QLoRA 呢？ / what if…: a condition on the previous question. */
const conditional = (r: Reading): boolean =>
  (/^(?:那|那么)?\s*(?:如果|要是|假如|换成|换做|改用)/.test(r.text) && endsWithNe(r)) || /^(?:and\s+)?what\s+if\b|^and\s+if\b/i.test(r.text);
/** Names its own subject but leaves the predicate to the previous question: 那 LLaMA 2 呢？, and PaLM? */
const elidedPredicate = (r: Reading): boolean => hasSubject(r) && hasMarker(r) && !hasPredicate(r);

/** Whether `question` can only be understood with `previousQuestion` (see the module comment for the rules). */
export function dependsOnPrevious(question: string, previousQuestion: string): boolean {
  if (previousQuestion.trim().length === 0) return false;
  const r = read(question);
  if (r.tokens.length === 0) return false;
  return conditional(r) || danglingPronoun(r) || !hasSubject(r) || elidedPredicate(r);
}

/** The subject phrases of a question: subjects with their qualifiers ("LLaMA 2", "Falcon 40B") and glued CJK words (版本空间). */
function subjectPhrases(r: Reading): string[] {
  const out: { start: number; end: number; subject: boolean }[] = [];
  let open = false;
  for (const t of r.tokens) {
    const part = t.kind === "subject" || t.kind === "qualifier" || (t.kind === "attribute" && t.cjk);
    const last = out.at(-1);
    const gap = last ? r.text.slice(last.end, t.start) : "";
    if (part && open && last && (gap === "" || (!t.cjk && /^[\s-]+$/.test(gap)))) {
      last.end = t.end;
      last.subject ||= t.kind === "subject";
    } else if (part) out.push({ start: t.start, end: t.end, subject: t.kind === "subject" });
    open = part;
  }
  return [...new Set(out.filter((p) => p.subject).map((p) => r.text.slice(p.start, p.end)))];
}

/**
 * The retrieval query for a follow-up. A question that names a new subject and leaves the predicate out (那 Vicuna
 * 呢？) takes the previous question without its subject, so the old subject does not pull in its own passages; a
 * request about the previous answer (为什么？, 举个例子) or a condition on it (那如果用 QLoRA 呢？) takes the whole
 * previous question; any other follow-up takes only the previous question's subjects (ChatGLM + 它的上下文长度是多少？):
 * its predicate words would pull towards the passage that answered the previous question.
 */
export function followUpQuery(question: string, previousQuestion: string): string {
  const q = read(question);
  const p = read(previousQuestion);
  const subjects = subjectPhrases(p);
  // 为什么？ / 具体点 / 那如果用 QLoRA 呢？ ask about the whole previous question, predicate included.
  if (subjects.length === 0 || conditional(q) || (isMeta(q) && !hasSubject(q))) return `${p.text}\n${q.text}`;
  if (elidedPredicate(q) && !danglingPronoun(q)) {
    let rest = p.text;
    for (const s of subjects) rest = rest.split(s).join(" ");
    rest = rest.replace(/\s+/g, " ").trim();
    return /[\p{L}\p{N}]/u.test(rest) ? `${rest}\n${q.text}` : q.text;
  }
  return `${subjects.join(" ")}\n${q.text}`;
}

/** How many earlier user turns a chain of follow-ups may reach back ("ChatGLM 是谁做的？" → "它多大？" → "上下文长度呢？"). */
const MAX_CHAIN = 3;

/**
 * The previous user question, read stand-alone: when it was itself a follow-up, it comes combined with the questions
 * it depended on (as `followUpQuery` builds them), so a chain of follow-ups keeps the subject it started with.
 */
export function previousUserQuestion(history: readonly ChatTurn[]): string | undefined {
  const asked = history.filter((t) => t.role === "user" && t.content.trim().length > 0).map((t) => t.content.trim());
  if (asked.length === 0) return undefined;
  const from = Math.max(0, asked.length - 1 - MAX_CHAIN);
  let resolved = asked[from] ?? "";
  for (const q of asked.slice(from + 1)) resolved = dependsOnPrevious(q, resolved) ? followUpQuery(q, resolved) : q;
  return resolved;
}
