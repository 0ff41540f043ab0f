/**
 * What kind of answer a question wants, from its question words, and whether a sentence supplies that kind. The
 * extractive answerer prefers a sentence that supplies the wanted thing (a number for 多少/how many, a date for
 * 什么时候/when, an organisation for 谁做的/who made) over one that merely mentions the question's subject.
 */
export type AnswerType = "number" | "date" | "who" | "list" | "definition" | "reason" | "how" | "yesno" | "other";

const RULES: readonly [AnswerType, RegExp][] = [
  ["date", /什么时候|何时|哪一?年|哪天|几月|哪个月|日期|\bwhen\b|\bwhat year\b|\brelease date\b/i],
  ["number", /多少|多大|多长|多久|多高|几[个种代层位款倍亿万]?|规模|参数量|\bhow (?:many|much|big|large|long)\b|\bwhat (?:size|number)\b|\bcount\b/i],
  ["who", /谁|哪家|哪个(?:公司|团队|机构|组织)|哪些(?:公司|机构)|什么(?:公司|机构|团队)|出品|\bwho\b|\bwhich (?:company|lab|team|organi[sz]ation)\b/i],
  ["reason", /为什么|为何|为啥|干嘛|干啥|何必|有啥用|有什么用|好处|原因|怎么会|\bwhy\b|\breason\b|\bwhat for\b|\bpoint of\b/i],
  ["list", /哪些|有哪|几部分|包括什么|包含什么|列出|\bwhat are the\b|\blist\b|\bwhich (?:ones|models|steps|parts)\b/i],
  ["how", /怎么|怎样|如何|咋|方法|步骤|\bhow (?:do|does|can|to|should|would)\b/i],
  ["definition", /什么是|是什么|是啥|啥是|指什么|什么意思|含义|定义|\bwhat (?:is|are|does)\b|\bdefine\b|\bmeaning of\b/i],
  ["yesno", /吗[？?]?$|是否|是不是|能不能|可不可以|有没有|^(?:is|are|does|do|can|could|will|has|have)\b/i],
];

export function answerTypeOf(question: string): AnswerType {
  const q = question.trim();
  for (const [type, re] of RULES) if (re.test(q)) return type;
  return "other";
}

/**
 * A quantity: a number with a unit or a scale (7G, 1.4 万亿, 52K, 6 billion, 40%), a written-out count, or a bare
 * number of 2+ digits. A lone digit after a name ("ChatGLM 2", "Claude 3") is a version, not an answer to 多少.
 */
const NUMBER =
  /\d+(?:\.\d+)?\s*(?:[kmgbt]b?\b|[kmgbt](?![a-z])|亿|万|千|百|个|倍|%|％|层|张|元|美元|字符|词|条|小时|天|周|年|token|tokens|params|parameters|billion|million|thousand|gpus?)|[$￥]\s*\d|\b\d{2,}\b|[一二两三四五六七八九十百千万亿]+(?:个|种|亿|万|倍|层|代|部分|阶段|类)|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b/i;
const DATE = /\d{4}\s*年|\d{1,2}\s*月|\b(?:19|20)\d{2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d/i;
const ORG =
  /公司|团队|实验室|大学|研究院|机构|集团|发布|推出|开发|提出|研发|出品|\b(?:by|from|developed|released|introduced|created|proposed)\b|\b(?:meta|google|openai|microsoft|deepmind|anthropic|alibaba|baidu|tsinghua|stanford|berkeley|nvidia|amazon|apple)\b|百度|阿里|腾讯|清华|智谱|华为|讯飞|字节|商汤|月之暗面|复旦|北大/i;
const REASON =
  /因为|由于|为了|因此|所以|原因|使得|从而|以便|导致|目的|\bbecause\b|\bdue to\b|\bso that\b|\bin order to\b|\bsince\b|\bto (?:avoid|reduce|improve|enable|make)\b/i;
const DEFINITION = /是指|指的是|是一[种个类]|即|称为|叫做|定义为|\bis an?\b|\brefers to\b|\bmeans\b|\bis the\b|\bare\b/i;
const HOW = /首先|然后|步骤|使用|通过|运行|安装|执行|命令|调用|可以|方法|\buse\b|\busing\b|\brun\b|\binstall\b|\bstep\b|\bby\b|`/i;

/** Whether the sentence contains the kind of thing the question asks for (a number, a date, an organisation…). */
export function supplies(type: AnswerType, sentence: string): boolean {
  switch (type) {
    case "number":
      return NUMBER.test(sentence);
    case "date":
      return DATE.test(sentence);
    case "who":
      return ORG.test(sentence);
    case "reason":
      return REASON.test(sentence);
    case "definition":
      return DEFINITION.test(sentence);
    case "how":
      return HOW.test(sentence);
    case "list":
      return announcesList(sentence) || /[、，,;；]/.test(sentence);
    default:
      return false;
  }
}

/** A sentence that only announces what follows: 「主要包括三部分内容：」, "Two key phases:", "as follows". */
export function announcesList(sentence: string): boolean {
  const s = sentence.trim();
  return /[:：]$/.test(s) || /(?:包括|如下|以下几|下面几|分为|有以下)[^。！？.!?]{0,12}$/.test(s) || /\b(?:the following|as follows|include)\s*:?$/i.test(s);
}
