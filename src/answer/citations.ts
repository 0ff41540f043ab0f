/** `[n]` markers that point at no source are removed (the model may invent them); valid ones are kept. */
export function checkCitations(answer: string, sourceCount: number): { text: string; cited: number[] } {
  const cited = new Set<number>();
  const text = answer.replace(/\[(\d{1,3})\]/g, (marker, n: string) => {
    const i = Number(n);
    if (i >= 1 && i <= sourceCount) {
      cited.add(i);
      return marker;
    }
    return "";
  });
  return { text, cited: [...cited].sort((a, b) => a - b) };
}

/** A `[` with up to three digits at the very end: the start of a marker whose rest is still on its way. */
const PARTIAL_MARKER = /\[\d{0,3}$/;

/**
 * The same check for an answer that is streamed: each piece is passed on with invalid markers removed, and a marker
 * split across pieces ("[" then "9]") is held back until it is complete. The pieces passed on, joined, equal
 * `checkCitations(whole answer).text`, so a client that assembles the tokens (an OpenAI streaming client never gets
 * another copy) sees no citation of a source that was not retrieved.
 */
export function streamingCitationFilter(sourceCount: number): { push(piece: string): string; flush(): string } {
  let held = "";
  return {
    push(piece) {
      const text = held + piece;
      const cut = text.search(PARTIAL_MARKER);
      held = cut >= 0 ? text.slice(cut) : "";
      return checkCitations(cut >= 0 ? text.slice(0, cut) : text, sourceCount).text;
    },
    flush() {
      const rest = held;
      held = "";
      return checkCitations(rest, sourceCount).text;
    },
  };
}
