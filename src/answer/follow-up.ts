import type { ChatTurn } from "./types.ts";

// Placeholder until the follow-up detector lands: a question depends on the previous one when it has a pronoun or ends in 呢.
export function dependsOnPrevious(question: string, _previous: string): boolean {
  return /它|其|^那|呢[？?]?$|\b(it|its|they|them|that)\b|^(and|what about|how about)\b/i.test(question.trim());
}
export function followUpQuery(question: string, previous: string): string {
  return `${previous}\n${question}`;
}
export function previousUserQuestion(history: readonly ChatTurn[]): string | undefined {
  return [...history].reverse().find((t) => t.role === "user")?.content;
}
