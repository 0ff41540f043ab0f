import type { IngestProgress } from "../ingest/run-ingest.ts";

/**
 * Ingest progress on stderr: a redrawn bar on a terminal, a line per phase step elsewhere (CI logs, pipes).
 */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): { update(p: IngestProgress): void; end(): void } {
  const tty = stream.isTTY === true;
  let lastPhase = "";
  let lastDecile = -1;
  let lastDraw = 0;
  let drawn = false;
  const label: Record<IngestProgress["phase"], string> = { scan: "Scanning", parse: "Parsing", embed: "Embedding", write: "Writing index" };

  return {
    update(p) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 80 && p.done !== p.total) return;
        lastDraw = now;
        const width = 24;
        const ratio = p.total > 0 ? p.done / p.total : 0;
        const bar = "█".repeat(Math.round(ratio * width)).padEnd(width, "░");
        const item = p.item ? ` ${p.item.length > 40 ? `…${p.item.slice(-39)}` : p.item}` : "";
        stream.write(`\r\x1b[2K${label[p.phase].padEnd(13)} ${bar} ${p.done}/${p.total}${item}`);
        drawn = true;
        return;
      }
      const decile = p.total > 0 ? Math.floor((p.done / p.total) * 10) : 0;
      if (p.phase !== lastPhase || decile > lastDecile) {
        if (p.phase !== lastPhase || p.total >= 20) stream.write(`${label[p.phase]}: ${p.done}/${p.total}\n`);
        lastPhase = p.phase;
        lastDecile = p.phase !== lastPhase ? -1 : decile;
      }
    },
    end() {
      if (tty && drawn) stream.write("\r\x1b[2K");
    },
  };
}
