import { existsSync, readFileSync, statSync } from "node:fs";
import { AppError, describeError, IndexMismatchError } from "../errors/app-error.ts";
import { type EmbeddingModel, isFittable } from "../providers/embedding-model.ts";
import { type ChunkRecord, indexText } from "../store/chunk-record.ts";
import type { HnswSettings } from "../store/hnsw-index.ts";
import type { IndexStore } from "../store/index-store.ts";
import type { KnowledgeIndex, LexicalTokens } from "../store/knowledge-index.ts";
import { checkEmbedder, chunkerDrift, type ManifestFile, SCHEMA_VERSION, TOKENIZER_VERSION } from "../store/manifest.ts";
import { sha256, shortId } from "../text/hash.ts";
import type { Tokenizer } from "../text/tokenizer.ts";
import { CHUNKER_VERSION, type ChunkerSettings, chunkSections } from "./chunker.ts";
import { createLoaderRegistry, type LoaderRegistry } from "./loaders/registry.ts";
import { type ScannedFile, scanDocs } from "./scan-docs.ts";

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
  /** Where the index is published: VECTORSTORE_DIR files or PostgreSQL (see store/index-store.ts). */
  store: IndexStore;
  embedder: EmbeddingModel;
  tokenizer: Tokenizer;
  chunker: ChunkerSettings;
  hnsw: HnswSettings;
  /** Rebuild everything from scratch instead of reusing the published index. */
  full?: boolean;
  batchSize?: number;
  loaders?: LoaderRegistry;
  onProgress?: (p: IngestProgress) => void;
  signal?: AbortSignal;
}

export interface IngestSummary {
  mode: "full" | "incremental";
  /** Documents in the index after the build. */
  files: number;
  filesAdded: number;
  filesChanged: number;
  filesRemoved: number;
  filesUnchanged: number;
  /** Live chunks in the index after the build. */
  chunks: number;
  embedded: number;
  reused: number;
  removed: number;
  skipped: string[];
  failed: { source: string; error: string }[];
  seconds: number;
  buildId: string;
  /** False when nothing changed: the published index was kept as it was. */
  published: boolean;
}

export interface IngestResult {
  summary: IngestSummary;
  index: KnowledgeIndex;
}

/** When tombstones outnumber live chunks, an incremental build compacts (rebuilds the graph) instead. */
const MAX_TOMBSTONE_RATIO = 0.5;

interface ParsedFile {
  file: ScannedFile;
  hash: string;
  entry: ManifestFile;
  chunks: ChunkRecord[];
}

function chunkRecords(source: string, title: string, docId: string, chunks: ReturnType<typeof chunkSections>): ChunkRecord[] {
  const seen = new Map<string, number>();
  return chunks.map((c): ChunkRecord => {
    const hash = sha256(c.text).slice(0, 32);
    // Identical chunks within one document (repeated boilerplate) still get distinct, stable ids.
    const n = seen.get(hash) ?? 0;
    seen.set(hash, n + 1);
    return {
      id: shortId(source, hash, String(n)),
      docId,
      source,
      title,
      headings: c.headings,
      ...(c.page === undefined ? {} : { page: c.page }),
      start: c.start,
      end: c.end,
      text: c.text,
      hash,
    };
  });
}

/** The published index an incremental build may start from, or a message saying why it cannot. */
async function previousIndex(opts: IngestOptions): Promise<KnowledgeIndex | undefined> {
  if (opts.full || !(await opts.store.hasIndex())) return undefined;
  let index: KnowledgeIndex;
  try {
    index = await opts.store.read({ efSearch: opts.hnsw.efSearch });
  } catch (err) {
    if (err instanceof IndexMismatchError) throw err;
    // A database that cannot be reached is not a damaged index: building over it would fail anyway.
    if (err instanceof AppError && err.code === "DB_UNAVAILABLE") throw err;
    // A damaged index cannot be reused; rebuilding from the documents is exactly what is needed.
    return undefined;
  }
  checkEmbedder(index.manifest, {
    provider: opts.embedder.provider,
    model: opts.embedder.model,
    ...(opts.embedder.dimensions ? { dimensions: opts.embedder.dimensions } : {}),
  });
  const drift = chunkerDrift(index.manifest, { ...opts.chunker, version: CHUNKER_VERSION });
  if (drift)
    throw new IndexMismatchError(`${drift.replace(/ Rebuild with:.*$/, "")} An incremental build would mix both. Rebuild with: npm run ingest -- --full`);
  return index;
}

/**
 * Builds the index. Incremental by default: files whose bytes are unchanged keep their chunks and vectors, changed and
 * new files are parsed again, and a chunk whose text is already in the index (a renamed file, an untouched paragraph)
 * reuses its vector instead of being embedded. Removed chunks become tombstones in the HNSW graph. Nothing changed →
 * nothing written. `full` (or no usable previous index) rebuilds from scratch and refits the local embedder.
 * One build at a time per store (a lock file); a file that fails to parse is reported by name, the rest still ingest.
 */
export async function runIngest(opts: IngestOptions): Promise<IngestResult> {
  const started = performance.now();
  const progress = opts.onProgress ?? (() => {});
  if (!existsSync(opts.docsDir) || !statSync(opts.docsDir).isDirectory()) {
    throw new AppError("INGEST_FAILED", `Docs folder ${opts.docsDir} does not exist. Set DOCS_DIR or pass --docs DIR.`, { status: 400 });
  }
  const release = await opts.store.lock();
  try {
    // Holding the lock, any temp folder (or unpublished table) is the leftover of a build that was killed.
    await opts.store.removeLeftovers();
    const previous = await previousIndex(opts);
    const { embedder } = opts;

    const loaders = opts.loaders ?? createLoaderRegistry();
    progress({ phase: "scan", done: 0, total: 0 });
    const { files, skipped } = scanDocs(opts.docsDir, loaders);
    const prevFiles = previous?.manifest.files ?? {};

    const kept: { source: string; entry: ManifestFile }[] = [];
    const parsed: ParsedFile[] = [];
    const failed: IngestSummary["failed"] = [];
    let added = 0;
    let changed = 0;
    for (const [i, file] of files.entries()) {
      opts.signal?.throwIfAborted();
      await yieldToEventLoop();
      progress({ phase: "parse", done: i, total: files.length, item: file.source });
      const loader = loaders.forPath(file.path);
      if (!loader) continue;
      try {
        const data = readFileSync(file.path);
        const hash = sha256(data);
        const before = prevFiles[file.source];
        if (before && before.hash === hash) {
          kept.push({ source: file.source, entry: before });
          continue;
        }
        const doc = await loader.load({ source: file.source, data });
        const docId = shortId("doc", file.source);
        const chunks = chunkRecords(file.source, doc.title, docId, chunkSections(doc.sections, opts.chunker));
        const entry: ManifestFile = {
          docId,
          hash,
          bytes: data.length,
          title: doc.title,
          format: loader.format,
          chunks: chunks.length,
          updatedAt: statSync(file.path).mtime.toISOString(),
        };
        parsed.push({ file, hash, entry, chunks });
        if (before) changed++;
        else added++;
      } catch (err) {
        failed.push({ source: file.source, error: describeError(err) });
        // A file that used to parse keeps its previous chunks rather than vanishing from the index.
        const before = prevFiles[file.source];
        if (before) kept.push({ source: file.source, entry: before });
      }
    }
    progress({ phase: "parse", done: files.length, total: files.length });

    const present = new Set([...kept.map((k) => k.source), ...parsed.map((p) => p.file.source)]);
    const removedFiles = Object.keys(prevFiles).filter((s) => !present.has(s));
    const newChunks = parsed.flatMap((p) => p.chunks);

    if (previous && parsed.length === 0 && removedFiles.length === 0) {
      return { index: previous, summary: summarise("incremental", previous, kept.length, 0, 0, 0, 0, 0, 0, skipped, failed, started, false) };
    }
    // Only now, with something to embed: importing a large local state is a noticeable part of a no-change run.
    if (previous && isFittable(embedder) && previous.embedderState !== undefined) embedder.importState(previous.embedderState);

    // Slots: an incremental build keeps the previous labels; chunks of changed/removed files become tombstones.
    const keptSources = new Set(kept.map((k) => k.source));
    const compact = previous
      ? (previous.slots.length - previous.chunks.length + countReplaced(previous, keptSources)) / Math.max(1, previous.slots.length) > MAX_TOMBSTONE_RATIO
      : false;
    const incremental = previous !== undefined && !compact;

    const texts = newChunks.map(indexText);
    // A previous index with no live chunks has no vectors to keep comparable, and its local embedder was fitted on no
    // text (every term equally rare): fit on what is arriving instead of freezing that until the next --full.
    if ((!previous || previous.chunks.length === 0) && isFittable(embedder)) embedder.fit(texts);
    // Vectors already in the previous index, keyed by the hash of the text that was embedded: renamed files and
    // untouched paragraphs cost nothing. Not by `c.hash` (the chunk text alone): the embedded text also carries the
    // title and heading path, so a renamed heading, or a text file titled by its renamed file name, needs a new vector.
    const reusable = new Map<string, number>();
    previous?.slots.forEach((c, label) => {
      if (!c) return;
      const key = sha256(indexText(c));
      if (!reusable.has(key)) reusable.set(key, label);
    });

    // Per new chunk: the previous label whose vector it reuses, or (after embedding) its own vector.
    const reuse: (number | undefined)[] = texts.map((text) => (previous ? reusable.get(sha256(text)) : undefined));
    const vectors: (Float32Array | undefined)[] = texts.map(() => undefined);
    const toEmbed = newChunks.map((_, i) => i).filter((i) => reuse[i] === undefined);
    const batchSize = opts.batchSize ?? 64;
    progress({ phase: "embed", done: 0, total: toEmbed.length });
    for (let b = 0; b < toEmbed.length; b += batchSize) {
      opts.signal?.throwIfAborted();
      await yieldToEventLoop();
      const batch = toEmbed.slice(b, b + batchSize);
      const out = await embedder.embedDocuments(
        batch.map((i) => texts[i] ?? ""),
        opts.signal,
      );
      batch.forEach((i, j) => {
        vectors[i] = out[j];
      });
      progress({ phase: "embed", done: Math.min(b + batchSize, toEmbed.length), total: toEmbed.length });
    }
    if (embedder.dimensions === 0) await embedder.probe?.(opts.signal);
    const dimensions = vectors.find((v) => v)?.length ?? previous?.manifest.embeddings.dimensions ?? embedder.dimensions;

    progress({ phase: "write", done: 0, total: 1 });
    let slots: (ChunkRecord | null)[];
    let tokens: LexicalTokens[];
    const lexical = (c: ChunkRecord): LexicalTokens =>
      // The heading path is counted twice in the lexical index (a BM25F-style field boost): a question that names a
      // section or a formula number ("式 (3.11)") should find the section that carries it in its heading.
      opts.tokenizer.analyze(`${c.headings.join("\n")}\n${indexText(c)}`);
    const keptLabels: number[] = [];
    previous?.slots.forEach((c, label) => {
      if (c && keptSources.has(c.source)) keptLabels.push(label);
    });
    const builder = await opts.store.builder({
      dimensions,
      capacity: incremental && previous ? previous.slots.length : keptLabels.length + newChunks.length,
      previous,
      incremental,
    });
    if (incremental && previous) {
      slots = [...previous.slots];
      tokens = [...previous.tokens];
      slots.forEach((c, label) => {
        if (c && !keptSources.has(c.source)) {
          builder.remove(label);
          slots[label] = null;
          tokens[label] = { words: [], bigrams: [] };
        }
      });
    } else {
      // Full build or compaction: fresh labels. Vectors of kept chunks come from the previous index.
      slots = [];
      tokens = [];
      for (const label of keptLabels) {
        const c = previous?.slots[label];
        if (!c || !previous) continue;
        builder.copy(label, slots.length);
        slots.push(c);
        tokens.push(previous.tokens[label] ?? lexical(c));
      }
    }
    newChunks.forEach((c, i) => {
      const from = reuse[i];
      const v = vectors[i];
      if (from !== undefined) builder.copy(from, slots.length);
      else if (v) builder.add(v, slots.length);
      else throw new Error(`no vector for chunk ${c.id}`);
      slots.push(c);
      tokens.push(lexical(c));
    });

    const filesEntries: Record<string, ManifestFile> = {};
    for (const k of kept) filesEntries[k.source] = k.entry;
    for (const p of parsed) filesEntries[p.file.source] = p.entry;
    const live = slots.reduce((n, c) => n + (c ? 1 : 0), 0);
    const index = await opts.store.publish(
      {
        manifest: {
          schemaVersion: SCHEMA_VERSION,
          embeddings: { id: embedder.id, provider: embedder.provider, model: embedder.model, dimensions },
          chunker: { ...opts.chunker, version: CHUNKER_VERSION },
          tokenizer: { version: TOKENIZER_VERSION },
          hnsw: { M: opts.hnsw.M, efConstruction: opts.hnsw.efConstruction, space: "cosine" },
          counts: { documents: Object.keys(filesEntries).length, chunks: live },
          files: filesEntries,
        },
        slots,
        tokens,
        ...(isFittable(embedder) ? { embedderState: embedder.exportState() } : {}),
      },
      builder,
      previous,
    );
    progress({ phase: "write", done: 1, total: 1 });

    const removedChunks = previous ? previous.chunks.filter((c) => !keptSources.has(c.source)).length : 0;
    return {
      index,
      summary: summarise(
        previous ? "incremental" : "full",
        index,
        kept.length,
        added,
        changed,
        removedFiles.length,
        toEmbed.length,
        newChunks.length - toEmbed.length,
        removedChunks,
        skipped,
        failed,
        started,
        true,
      ),
    };
  } finally {
    await release();
  }
}

/**
 * Lets queued I/O run between steps. A build in the server process otherwise holds the event loop from start to end
 * (loaders and the local embedder resolve without ever reaching the I/O phase), so every query waits for the build.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function countReplaced(previous: KnowledgeIndex, keptSources: ReadonlySet<string>): number {
  return previous.chunks.filter((c) => !keptSources.has(c.source)).length;
}

function summarise(
  mode: "full" | "incremental",
  index: KnowledgeIndex,
  unchanged: number,
  added: number,
  changed: number,
  removedFiles: number,
  embedded: number,
  reused: number,
  removedChunks: number,
  skipped: string[],
  failed: IngestSummary["failed"],
  started: number,
  published: boolean,
): IngestSummary {
  return {
    mode,
    files: index.manifest.counts.documents,
    filesAdded: added,
    filesChanged: changed,
    filesRemoved: removedFiles,
    filesUnchanged: unchanged,
    chunks: index.manifest.counts.chunks,
    embedded,
    reused,
    removed: removedChunks,
    skipped,
    failed,
    seconds: (performance.now() - started) / 1000,
    buildId: index.manifest.buildId,
    published,
  };
}
