/**
 * A child process for the "killed mid-rebuild" test: an incremental ingest of DOCS_DIR into VECTORSTORE_DIR whose
 * embedder sleeps EMBED_DELAY_MS per batch, so the build sits in the embed phase (lock held, nothing published) long
 * enough to be killed. Progress goes to stdout as one JSON object per line.
 *
 * Run it with `node --import tsx test/helpers/slow-ingest.ts`, not through the tsx binary: the binary runs the script
 * in a second process, and a SIGKILL sent to the wrapper would leave the build running.
 */
import { loadConfig } from "../../src/config/config.ts";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { CountingEmbedder } from "./counting-embedder.ts";

const config = loadConfig({ ...process.env, LOG_LEVEL: "silent" });
const counter = new CountingEmbedder({
  ...(config.embeddings.provider === "local" ? { dimensions: config.embeddings.dimensions } : {}),
  delayMsPerBatch: Number(process.env.EMBED_DELAY_MS ?? 1000),
});
const kb = await KnowledgeBase.open(config, { makeEmbedder: () => counter });
const summary = await kb.ingest({ onProgress: (p) => console.log(JSON.stringify({ pid: process.pid, progress: p })) });
console.log(JSON.stringify({ summary }));
