import type { AppConfig } from "../../config/config.ts";
import type { IngestSummary } from "../../ingest/run-ingest.ts";
import { describeError } from "../../errors/app-error.ts";
import { watchDocs } from "../../ingest/watch-docs.ts";
import { KnowledgeBase } from "../../knowledge-base/knowledge-base.ts";
import { parseCommandArgs } from "../args.ts";
import { createProgressReporter } from "../progress.ts";

export const INGEST_USAGE = `Usage: npm run ingest -- [--docs DIR] [--store DIR] [--full] [--watch] [--json]

Builds the knowledge-base index from the documents in DOCS_DIR (default ./docs-corpus):
Markdown (.md .markdown), text (.txt), PDF (.pdf) and HTML (.html .htm), recursively.

  --docs DIR    folder to ingest (overrides DOCS_DIR)
  --store DIR   where the index is written (overrides VECTORSTORE_DIR)
  --full        rebuild everything from scratch (re-parse, re-embed, refit the local embedder);
                without it only new and changed files are parsed and only new text is embedded
  --watch       after the build, keep watching the docs folder and rebuild (incrementally) when files change
  --json        print the summary as JSON`;

export function formatSummary(s: IngestSummary): string {
  const lines: string[] = [];
  if (!s.published) {
    lines.push(`Index is up to date: ${s.files} files, ${s.chunks} chunks, nothing changed (${s.seconds.toFixed(2)} s).`);
  } else {
    lines.push(
      `${s.mode === "full" ? "Full build" : "Incremental build"}: ${s.files} file${s.files === 1 ? "" : "s"} (added ${s.filesAdded}, changed ${s.filesChanged}, removed ${s.filesRemoved}, unchanged ${s.filesUnchanged}) → ${s.chunks} chunks (embedded ${s.embedded}, reused ${s.reused}, removed ${s.removed}) in ${s.seconds.toFixed(2)} s`,
    );
  }
  if (s.skipped.length) lines.push(`Skipped ${s.skipped.length} file(s) with unsupported extensions: ${s.skipped.join(", ")}`);
  for (const f of s.failed) lines.push(`FAILED ${f.source}: ${f.error}`);
  return lines.join("\n");
}

export async function ingestCommand(argv: string[], loadConfig: (o: { docsDir?: string; storeDir?: string }) => AppConfig): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { docs: { type: "string" }, store: { type: "string" }, full: { type: "boolean" }, watch: { type: "boolean" }, json: { type: "boolean" } },
    INGEST_USAGE,
  );
  if (values.help) {
    console.log(INGEST_USAGE);
    return 0;
  }
  const config = loadConfig({ ...(values.docs ? { docsDir: values.docs } : {}), ...(values.store ? { storeDir: values.store } : {}) });
  const kb = await KnowledgeBase.open(config);
  const progress = createProgressReporter();
  const summary = await kb.ingest({ full: values.full ?? false, onProgress: (p) => progress.update(p) }).finally(() => progress.end());
  console.log(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  if (values.watch) {
    console.error(`Watching ${config.docsDir} for changes (Ctrl-C to stop)…`);
    const stop = watchDocs(
      config.docsDir,
      async () => {
        const s = await kb.ingest();
        console.log(values.json ? JSON.stringify(s) : `[${new Date().toLocaleTimeString()}] ${formatSummary(s)}`);
      },
      { onError: (err) => console.error(`Rebuild failed: ${describeError(err)}`) },
    );
    await new Promise<void>((resolve) => process.once("SIGINT", resolve));
    stop();
    return 0;
  }
  // Partial success still publishes the index; the exit code tells scripts that some files need attention.
  return summary.failed.length > 0 ? 2 : 0;
}
