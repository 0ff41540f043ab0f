/** `[n]` markers that point at no source are removed (the model may invent them); valid ones are kept. */
export function checkCitations(answer: string, sourceCount: number): { text: string; cited: number[] } {
  const cited = new Set<number>();
  const text = answer
    .replace(/\[(\d{1,3})\]/g, (marker, n: string) => {
      const i = Number(n);
      if (i >= 1 && i <= sourceCount) {
        cited.add(i);
        return marker;
      }
      return "";
    });
  return { text, cited: [...cited].sort((a, b) => a - b) };
}
