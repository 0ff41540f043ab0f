/**
 * Function words that carry no topic in Chinese or English. Deliberately short: BM25's IDF already discounts common
 * words, so this list only removes what would otherwise add noise to every query (particles, pronouns, question words).
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  [
    // Chinese particles, pronouns, conjunctions, question words
    "的 了 着 过 是 在 和 与 及 或 而 并 也 都 就 还 又 把 被 让 给 对 从 向 于 以 之 其 此 该 这 那 这个 那个 这些 那些",
    "我 你 他 她 它 我们 你们 他们 她们 它们 自己 什么 多少 哪些 哪个 哪 怎么 怎样 怎么样 如何 为什么 为何 是否 是不是",
    "哪家 哪里 哪儿 哪位 哪种 哪一 谁 几 多长 多大 多久 多高 多远 何时 什么样 什么时候 时候 请问 是谁",
    "吗 呢 吧 啊 呀 么 嘛 哦 个 些 种 一个 一些 一种 有 没有 无 不 没 很 更 最 等 等等 即 则 但 但是 因为 所以 如果 虽然",
    "可以 能 能够 会 要 需要 应该 请 请问 一下 呢 之间 以及 或者 还是 通过 由 为 中 上 下 里 内 后 前 时 时候",
    // English
    "a an the of to in on at by for with from as is are was were be been being it its this that these those and or",
    "not no but if then than so such what which who whom whose when where why how do does did can could should would",
    "will shall may might must has have had i you he she we they them their our your my me us about into over also",
  ]
    .join(" ")
    .split(/\s+/),
);

/**
 * Words that, in a question, are instructions to the assistant rather than the topic ("请根据提供的上下文信息，解释…",
 * "briefly explain …"). Removed from queries only; documents keep them.
 */
export const QUERY_STOPWORDS: ReadonlySet<string> = new Set(
  [
    "根据 提供 给定 给出 所给 上述 以上 下列 以下 文中 文本 材料 资料 内容 信息 解释 说明 简述 简要 描述 阐述 概述 介绍 列举",
    "谈谈 讲讲 分析 回答 告诉 知道 理解 具体 主要 哪些方面",
    // Colloquial question words (啥 = 什么, 咋 = 怎么): as empty of topic as the standard ones in STOPWORDS.
    "啥 啥是 是啥 咋 咋样 咋办 咋整 咋弄 为啥 干啥 干嘛 搞 弄 整 哪几个 哪几种 哪几 几个 几种 几代 多少次 能不能 可不可以 有没有 到底 究竟 大概 一般 呀 哈",
    "explain describe briefly tell please according provided given context information list summarize summarise",
  ]
    .join(" ")
    .split(/\s+/),
);

/** A templated opening such as 「请根据提供的上下文信息，」 or "Based on the context," says nothing about the topic. */
const BOILERPLATE_PREFIX =
  /^\s*(?:请|麻烦)?(?:你)?(?:根据|基于|结合|依据|参考)(?:以下|下面|上述|以上)?(?:所|已)?(?:提供|给定|给出|上述|以上|下面|以下)?的?(?:上下文|原文|文本|资料|材料|文档|文章|内容|信息|知识库)+(?:信息|内容)?[，,：:。\s]*/u;
const BOILERPLATE_PREFIX_EN =
  /^\s*(?:please\s+)?(?:based on|according to|using|given)\s+(?:the\s+)?(?:provided\s+|given\s+)?(?:context|text|document|documents|information)[,:]?\s*/i;

/**
 * Question frames that say what kind of answer is wanted, not what it is about: 「是哪家公司开发的」, "who made".
 * Documents state the answer with other words (「基于百度…」, "released by Mistral AI"), so leaving 公司/开发/made in
 * the query only lowers the subject's share and pulls in sentences about other companies. The answer type is read from
 * the raw question (answer/answer-type.ts).
 */
const QUESTION_FRAMES: readonly RegExp[] = [
  /(?:由)?(?:哪家|哪个|哪一家|什么|啥)(?:公司|机构|团队|厂商|厂家|单位)(?:开发|研发|推出|发布|做|出|搞|训练|提出)?(?:出来)?的?/gu,
  /谁(?:开发|研发|推出|发布|做|出|搞|提出)(?:出来)?的?/gu,
  /\bwho\s+(?:made|makes|created|creates|developed|develops|built|builds|released|is behind|was behind|trained|proposed|invented)\b/giu,
  /\bwhich\s+(?:company|lab|team|organi[sz]ation)\s+(?:made|created|developed|built|released|is behind|trained|proposed)\b/giu,
];

export function stripQuestionFrames(query: string): string {
  let out = query;
  for (const re of QUESTION_FRAMES) out = out.replace(re, " ");
  return out.trim().length > 0 ? out : query;
}

export function stripQueryBoilerplate(query: string): string {
  const stripped = stripQuestionFrames(query.replace(BOILERPLATE_PREFIX, "").replace(BOILERPLATE_PREFIX_EN, ""));
  return stripped.trim().length > 0 ? stripped : query;
}
