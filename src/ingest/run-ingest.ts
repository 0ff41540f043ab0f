import { existsSync, readFileSync, statSync } from "node:fs";
import { AppError, describeError } from "../errors/app-error.ts";
import { type EmbeddingModel, isFittable } from "../providers/embedding-model.ts";
import { type ChunkRecord, indexText } from "../store/chunk-record.ts";
import type { HnswSettings } from "../store/hnsw-index.ts";
import { type KnowledgeIndex, type LexicalTokens, writeIndex } from "../store/knowledge-index.ts";
import { type ManifestFile, SCHEMA_VERSION, TOKENIZER_VERSION } from "../store/manifest.ts";
import { sha256, shortId } from "../text/hash.ts";
import type { Tokenizer } from "../text/tokenizer.ts";
import { CHUNKER_VERSION, type ChunkerSettings, chunkSections } from "./chunker.ts";
import { createLoaderRegistry, type LoaderRegistry } from "./loaders/registry.ts";
import { scanDocs } from "./scan-docs.ts";

export type IngestPhase = "scan" | "parse" | "embed" | "write";

export interface IngestProgress {
  phase: IngestPhase;
  done: number;
  total: number;
  /** The file being parsed, during "parse". */
  item?: string;
}

export interface IngestOptions {
  docsDir: string;
  storeDir: string;
  embedder: EmbeddingModel;
  tokenizer: Tokenizer;
  chunker: ChunkerSettings;
  hnsw: HnswSettings;
  batchSize?: number;
  loaders?: LoaderRegistry;
  onProgress?: (p: IngestProgress) => void;
  signal?: AbortSignal;
}

export interface IngestSummary {
  files: number;
  chunks: number;
  embedded: number;
  reused: number;
  removed: number;
  skipped: string[];
  failed: { source: string; error: string }[];
  seconds: number;
  buildId: string;
}

export interface IngestResult {
  summary: IngestSummary;
  index: KnowledgeIndex;
}

/**
 * Full build: scan → parse (one loader per format) → chunk → tokenise → fit/ embed → write atomically.
 * A file that fails to parse is reported by name and the others still ingest.
 */
export async function runIngest(opts: IngestOptions): Promise<IngestResult> {
  const started = performance.now();
  const progress = opts.onProgress ?? (() => {});
  if (!existsSync(opts.docsDir) || !statSync(opts.docsDir).isDirectory()) {
    throw new AppError("INGEST_FAILED", `Docs folder ${opts.docsDir} does not exist. Set DOCS_DIR or pass --docs DIR.`, { status: 400 });
  }
  const loaders = opts.loaders ?? createLoaderRegistry();
  progress({ phase: "scan", done: 0, total: 0 });
  const { files, skipped } = scanDocs(opts.docsDir, loaders);

  const chunks: ChunkRecord[] = [];
  const fileEntries: Record<string, ManifestFile> = {};
  const failed: IngestSummary["failed"] = [];

  for (const [i, file] of files.entries()) {
    opts.signal?.throwIfAborted();
    progress({ phase: "parse", done: i, total: files.length, item: file.source });
    const loader = loaders.forPath(file.path);
    if (!loader) continue;
    try {
      const data = readFileSync(file.path);
      const doc = await loader.load({ source: file.source, data });
      const docId = shortId("doc", file.source);
      const seen = new Map<string, number>();
      const docChunks = chunkSections(doc.sections, opts.chunker).map((c): ChunkRecord => {
        const hash = sha256(c.text).slice(0, 32);
        // Identical chunks within one document (repeated boilerplate) still get distinct, stable ids.
        const n = seen.get(hash) ?? 0;
        seen.set(hash, n + 1);
        return {
          id: shortId(file.source, hash, String(n)),
          docId,
          source: file.source,
          title: doc.title,
          headings: c.headings,
          ...(c.page === undefined ? {} : { page: c.page }),
          start: c.start,
          end: c.end,
          text: c.text,
          hash,
        };
      });
      chunks.push(...docChunks);
      fileEntries[file.source] = {
        docId,
        hash: sha256(data),
        bytes: data.length,
        title: doc.title,
        format: loader.format,
        chunks: docChunks.length,
        updatedAt: statSync(file.path).mtime.toISOString(),
      };
    } catch (err) {
      failed.push({ source: file.source, error: describeError(err) });
    }
  }
  progress({ phase: "parse", done: files.length, total: files.length });

  const texts = chunks.map(indexText);
  // The heading path is counted twice in the lexical index (a BM25F-style field boost): a question that names a
  // section or a formula number ("式 (3.11)") should find the section that carries it in its heading.
  const tokens: LexicalTokens[] = texts.map((t, i) => opts.tokenizer.analyze(`${chunks[i]?.headings.join("\n") ?? ""}\n${t}`));
  const { embedder } = opts;
  if (isFittable(embedder)) embedder.fit(texts);

  const vectors: Float32Array[] = [];
  const batchSize = opts.batchSize ?? 64;
  progress({ phase: "embed", done: 0, total: texts.length });
  for (let i = 0; i < texts.length; i += batchSize) {
    opts.signal?.throwIfAborted();
    vectors.push(...(await embedder.embedDocuments(texts.slice(i, i + batchSize), opts.signal)));
    progress({ phase: "embed", done: Math.min(i + batchSize, texts.length), total: texts.length });
  }

  // An API model whose dimension is not configured reports it only after a call; an empty corpus made none.
  if (embedder.dimensions === 0) await embedder.probe?.(opts.signal);
  progress({ phase: "write", done: 0, total: 1 });
  const index = writeIndex(
    opts.storeDir,
    {
      manifest: {
        schemaVersion: SCHEMA_VERSION,
        embeddings: { id: embedder.id, provider: embedder.provider, model: embedder.model, dimensions: embedder.dimensions },
        chunker: { ...opts.chunker, version: CHUNKER_VERSION },
        tokenizer: { version: TOKENIZER_VERSION },
        hnsw: { M: opts.hnsw.M, efConstruction: opts.hnsw.efConstruction, space: "cosine" },
        counts: { documents: Object.keys(fileEntries).length, chunks: chunks.length },
        files: fileEntries,
      },
      chunks,
      tokens,
      vectors,
      ...(isFittable(embedder) ? { embedderState: embedder.exportState() } : {}),
    },
    opts.hnsw,
  );
  progress({ phase: "write", done: 1, total: 1 });

  return {
    index,
    summary: {
      files: Object.keys(fileEntries).length,
      chunks: chunks.length,
      embedded: chunks.length,
      reused: 0,
      removed: 0,
      skipped,
      failed,
      seconds: (performance.now() - started) / 1000,
      buildId: index.manifest.buildId,
    },
  };
}
