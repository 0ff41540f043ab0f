/** Whether to answer in Chinese: the question holds more CJK characters than Latin letters / 4 (words vs. letters). */
export function prefersChinese(text: string): boolean {
  const cjk = text.match(/[\u3400-\u9fff]/g)?.length ?? 0;
  const latin = text.match(/[A-Za-z]/g)?.length ?? 0;
  return cjk > 0 && cjk >= latin / 4;
}

export function notFoundMessage(question: string): string {
  return prefersChinese(question)
    ? "知识库中没有找到与这个问题相关的内容，所以我无法回答。可以换个说法，或先把相关文档加入知识库。"
    : "I couldn't find anything relevant to this question in the knowledge base, so I can't answer it. Try rephrasing, or add documents that cover it.";
}

/** Introduces an offline answer made of the closest passages when no sentence answers the question outright. */
export function closestPassagesIntro(question: string): string {
  return prefersChinese(question)
    ? "文档里没有直接回答这个问题的句子，最接近的内容是："
    : "The documents do not answer this directly; the closest passages are:";
}
