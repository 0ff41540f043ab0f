/**
 * The hand-written layer of cross-language expansion: the technical vocabulary Chinese and English notes about
 * ML/LLMs share, where a general dictionary is wrong or silent (CC-CEDICT has no 大模型, gives 提示 as "to prompt; to
 * remind" and "prompt" as 连忙). Each pair lists a Chinese term and its English equivalents; a match in the query adds
 * the other side at full weight. Deliberately small and generic: no document-specific facts, only vocabulary.
 */
const PAIRS: readonly [string, string][] = [
  ["上下文长度|上下文窗口|上下文窗口长度|上下文", "context length|context window|context"],
  ["参数量|参数规模|参数", "parameters|parameter count|params"],
  ["训练数据|训练语料|语料", "training data|corpus|dataset|trained on"],
  ["数据集", "dataset|data"],
  ["发布|发布时间|发布日期|推出", "release|released|release date|launched"],
  ["开源", "open source|open-source|open weights"],
  ["闭源", "proprietary|closed source"],
  ["许可证|许可|协议", "license|licence"],
  ["商用|商业用途", "commercial use|commercial"],
  ["微调|精调", "fine-tuning|fine-tuned|finetuning"],
  ["指令微调", "instruction tuning|instruction-tuned"],
  ["预训练", "pre-training|pretraining|pre-trained|pretrained"],
  ["人类反馈强化学习|强化学习", "reinforcement learning|rlhf"],
  ["对齐", "alignment|aligned"],
  ["推理", "inference|reasoning"],
  ["评估|评测", "evaluation|benchmark"],
  ["基准", "benchmark"],
  ["多模态", "multimodal|multi-modal"],
  ["架构|结构", "architecture"],
  ["注意力|注意力机制", "attention"],
  ["量化", "quantization|quantized"],
  ["显存", "gpu memory|vram"],
  ["涌现能力|涌现", "emergent abilities|emergent"],
  ["幻觉", "hallucination|hallucinations"],
  ["智能体|代理", "agent|agents"],
  ["提示词|提示", "prompt|prompting"],
  ["思维链", "chain of thought|chain-of-thought"],
  ["检索增强生成|检索增强", "retrieval augmented generation|rag"],
  ["大语言模型|大模型|语言模型", "large language model|llm|language model"],
  ["词元", "token|tokens"],
  ["费用|成本|价格", "cost|price|pricing"],
  ["性能|表现", "performance"],
  ["部署", "deploy|deployment"],
  ["本地运行|本地部署", "run locally|running locally|locally"],
  ["作者|开发者|研发", "developed by|author|developer"],
  ["公司|机构", "company|organization"],
  ["版本", "version|versions"],
  ["代码", "code"],
  ["数学", "math|mathematics"],
  ["安全", "safety|security"],
];

export interface DomainMatch {
  /** The glossary term found in the query, as the query writes it. */
  matched: string;
  /** Its equivalents in the other language. */
  equivalents: string[];
}

interface Entry {
  from: { term: string; pattern: RegExp | undefined }[];
  to: string[];
}

// Latin terms match on word boundaries ("rag" must not match "storage"); patterns are compiled once.
const compile = (terms: string[]) =>
  terms.map((term) => ({ term, pattern: /^[a-z]/.test(term) ? new RegExp(`\\b${term.replace(/[-]/g, "[- ]?")}\\b`) : undefined }));

const ENTRIES: Entry[] = PAIRS.flatMap(([zh, en]) => {
  const zhTerms = zh.split("|");
  const enTerms = en.split("|");
  return [
    { from: compile(zhTerms), to: enTerms },
    { from: compile(enTerms), to: zhTerms },
  ];
});

/**
 * Every English term of the glossary, matched or not ("prompt", "language model"): the dictionary layer leaves these
 * alone, since the glossary knows them better (CC-CEDICT reads "prompt" as 连忙, "quick").
 */
export const DOMAIN_ENGLISH_TERMS: readonly string[] = PAIRS.flatMap(([, en]) => en.split("|"));

/** Glossary vocabulary found in the (lower-cased) query, with its equivalents in the other language. */
export function domainMatches(lowerQuery: string): DomainMatch[] {
  const out: DomainMatch[] = [];
  for (const e of ENTRIES) {
    for (const { term, pattern } of e.from) {
      // As written in the query ("prompts"), so that coverage can credit the question's own word.
      const found = pattern ? pattern.exec(lowerQuery)?.[0] : lowerQuery.includes(term) ? term : undefined;
      if (found === undefined) continue;
      out.push({ matched: found, equivalents: e.to });
      break;
    }
  }
  return out;
}
