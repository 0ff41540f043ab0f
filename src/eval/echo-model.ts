/**
 * The loopback model's reply for answer evaluations in LLM mode: it "answers" with the text of every source it was
 * given, each cited. So in LLM mode "holds the fact" measures whether the fact reached the model — an upper bound on
 * what a real model can answer — and "refused" counts the questions refused before any model was asked.
 * Rewrite requests (a follow-up made stand-alone) get the last user question back unchanged.
 */
export function echoSourcesReply(messages: readonly { role: string; content: unknown }[]): string {
  const last = [...messages].reverse().find((m) => m.role === "user");
  const text = typeof last?.content === "string" ? last.content : "";
  const sources = [...text.matchAll(/<source id="(\d+)"[^>]*>\n?([\s\S]*?)\n?<\/source>/g)];
  if (sources.length === 0) {
    const q = /Question:\s*([\s\S]*)$/.exec(text)?.[1] ?? text;
    return q.trim().split("\n").pop() ?? q;
  }
  return sources.map(([, id, body]) => `${(body ?? "").trim()} [${id}]`).join("\n\n");
}
