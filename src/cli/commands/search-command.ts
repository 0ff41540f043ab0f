import type { AppConfig } from "../../config/config.ts";
import { AppError } from "../../errors/app-error.ts";
import { KnowledgeBase, MAX_K } from "../../knowledge-base/knowledge-base.ts";
import { parseCommandArgs, parsePositiveInt } from "../args.ts";

export const SEARCH_USAGE = `Usage: npm run search -- "query" [-k N] [--json] [--store DIR]

Retrieval only: prints the best-matching passages with file, heading path, page and score.

  -k N          number of results (default SEARCH_TOP_K, 5; at most ${MAX_K})
  --json        print {"results": [...]} as POST /search returns it
  --store DIR   index folder (overrides VECTORSTORE_DIR)`;

export async function searchCommand(argv: string[], loadConfig: (o: { storeDir?: string }) => AppConfig): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { k: { type: "string", short: "k" }, json: { type: "boolean" }, store: { type: "string" } },
    SEARCH_USAGE,
  );
  if (values.help) {
    console.log(SEARCH_USAGE);
    return 0;
  }
  const query = positionals.join(" ").trim();
  if (!query) throw new AppError("BAD_REQUEST", `Give a query.\n\n${SEARCH_USAGE}`, { status: 400 });
  const config = loadConfig(values.store ? { storeDir: values.store } : {});
  const k = parsePositiveInt(values.k, "-k", config.topK, MAX_K);
  const kb = await KnowledgeBase.open(config);
  await kb.load();
  const started = performance.now();
  const results = await kb.search(query, k);
  const ms = performance.now() - started;
  if (values.json) {
    console.log(JSON.stringify({ results }, null, 2));
    return 0;
  }
  if (results.length === 0) {
    console.log("No passages found: the index is empty.");
    return 0;
  }
  results.forEach((r, i) => {
    const where = [r.source, r.page === undefined ? undefined : `p. ${r.page}`].filter(Boolean).join(", ");
    const path = r.headings.length ? r.headings.join(" › ") : r.title;
    console.log(`[${i + 1}] ${where}  (score ${r.score.toFixed(3)})\n    ${path}\n    ${r.snippet}\n`);
  });
  console.log(`${results.length} result(s) in ${ms.toFixed(1)} ms`);
  return 0;
}
