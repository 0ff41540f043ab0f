import type { AppConfig } from "../config/config.ts";
import { AppError, describeError, IndexCorruptError, isAppError } from "../errors/app-error.ts";
import { CHUNKER_VERSION } from "../ingest/chunker.ts";
import { type IngestProgress, type IngestSummary, runIngest } from "../ingest/run-ingest.ts";
import { embeddingModelFactory } from "../providers/create-embedding-model.ts";
import { type EmbeddingModel, isFittable } from "../providers/embedding-model.ts";
import { DEFAULT_RETRIEVER_SETTINGS, HybridRetriever, type QueryPlan, type RetrievedChunk, type SearchSnapshot } from "../retrieval/hybrid-retriever.ts";
import { makeSnippet } from "../retrieval/snippet.ts";
import { createIndexStore } from "../store/create-index-store.ts";
import type { IndexStore } from "../store/index-store.ts";
import type { KnowledgeIndex } from "../store/knowledge-index.ts";
import { checkEmbedder, chunkerDrift } from "../store/manifest.ts";
import { createTokenizer, type Tokenizer } from "../text/tokenizer.ts";

export interface SearchHit {
  id: string;
  source: string;
  title: string;
  page?: number;
  headings: string[];
  snippet: string;
  score: number;
  text: string;
}

export interface KnowledgeBaseStatus {
  status: "ok" | "degraded";
  message?: string;
  index: {
    documents: number;
    chunks: number;
    builtAt: string | null;
    embeddings: { provider: string; model: string; dimensions: number };
  };
}

export const MAX_K = 50;

/** A document in the knowledge base, as GET /documents lists it. `id` is stable for a given path. */
export interface DocumentInfo {
  id: string;
  source: string;
  title: string;
  format: string;
  chunks: number;
  bytes: number;
  updatedAt: string;
}

/** A document's title and the heading paths of its chunks (see KnowledgeBase.listHeadingPaths). */
export interface DocumentHeadings {
  source: string;
  title: string;
  paths: string[][];
}

/**
 * The knowledge base as the CLI and the server see it: the current index snapshot, its query embedder, and the
 * retriever. A snapshot is swapped in whole; a query keeps the snapshot it started with.
 */
export class KnowledgeBase {
  private snapshot: SearchSnapshot | undefined;
  private problem: string | undefined;
  /** Why no snapshot could be loaded: what /ask and /search answer (503) until a build succeeds. */
  private failure: AppError | undefined;
  /** The published version that last failed to load: not read (and checksummed) again on every poll. */
  private failedName: string | undefined;
  /** Why the store itself could not be asked (a database that is down): cleared by the next successful poll. */
  private storeProblem: AppError | undefined;
  private readonly retriever: HybridRetriever;

  private constructor(
    readonly config: AppConfig,
    readonly tokenizer: Tokenizer,
    private readonly makeEmbedder: () => EmbeddingModel,
    readonly store: IndexStore,
  ) {
    this.retriever = new HybridRetriever(tokenizer, DEFAULT_RETRIEVER_SETTINGS);
  }

  static async open(config: AppConfig, deps: { tokenizer?: Tokenizer; makeEmbedder?: () => EmbeddingModel; store?: IndexStore } = {}): Promise<KnowledgeBase> {
    const makeEmbedder = deps.makeEmbedder ?? (await embeddingModelFactory(config.embeddings));
    return new KnowledgeBase(config, deps.tokenizer ?? createTokenizer(), makeEmbedder, deps.store ?? (await createIndexStore(config)));
  }

  /** Whether anything is published (a damaged index counts: it is reported, never silently built over). */
  hasPublishedIndex(): Promise<boolean> {
    return this.store.hasIndex();
  }

  /** Releases the store's connections (a database pool); the knowledge base is not used afterwards. */
  async close(): Promise<void> {
    await this.store.close();
  }

  get index(): KnowledgeIndex | undefined {
    return this.snapshot?.index;
  }

  /** Load the published index; throws IndexNotFound / IndexMismatch / IndexCorrupt errors with what to run. */
  async load(): Promise<KnowledgeIndex> {
    const index = await this.store.read({ efSearch: this.config.hnsw.efSearch });
    this.adopt(index);
    return index;
  }

  /** Like `load`, but a broken or mismatched index leaves the knowledge base degraded instead of throwing. */
  tryLoad(): Promise<boolean> {
    return this.attemptLoad(true);
  }

  /** `report`: also mark the knowledge base degraded when an older snapshot is still being served. */
  private async attemptLoad(report: boolean): Promise<boolean> {
    // Read before loading: if the published version moves on meanwhile, the newer one is still tried on the next poll.
    let attempted: string | undefined;
    try {
      attempted = await this.store.publishedVersion();
      await this.load();
      this.storeProblem = undefined;
      return true;
    } catch (err) {
      if (isStoreUnavailable(err)) {
        // Not the index's fault: nothing is marked failed, and the next poll tries again.
        this.storeProblem = err as AppError;
        if (!this.snapshot) this.setFailure(err);
        return false;
      }
      this.failedName = attempted;
      if (report || !this.snapshot) this.setFailure(err);
      return false;
    }
  }

  /** Degraded: `status()` carries the message, and retrieval answers 503 with the same code and message. */
  private setFailure(err: unknown): void {
    const e = err as NodeJS.ErrnoException;
    // Errors raised on purpose say what to run; anything else (an fs error) is named by its code, not its path.
    this.failure =
      isAppError(err) && err.expose
        ? err
        : new IndexCorruptError(`The index could not be loaded (${e?.code ? `${e.code}${e.syscall ? ` on ${e.syscall}` : ""}` : describeError(err)}).`, err);
    this.problem = this.failure.message;
  }

  private adopt(index: KnowledgeIndex): void {
    const embedder = this.makeEmbedder();
    checkEmbedder(index.manifest, { provider: embedder.provider, model: embedder.model, ...(embedder.dimensions ? { dimensions: embedder.dimensions } : {}) });
    if (isFittable(embedder)) {
      if (index.embedderState === undefined)
        throw new AppError("INDEX_CORRUPT", "The index has no local embedding state. Rebuild it with: npm run ingest -- --full", { status: 503 });
      embedder.importState(index.embedderState);
    }
    // Build the lexical indexes now, before the swap, so the first queries on the new snapshot do not wait for them.
    void index.words;
    void index.bigrams;
    this.snapshot = { index, embedder };
    this.failure = undefined;
    this.failedName = undefined;
    this.problem = chunkerDrift(index.manifest, { ...this.config.chunker, version: CHUNKER_VERSION });
  }

  async ingest(opts: { docsDir?: string; full?: boolean; onProgress?: (p: IngestProgress) => void; signal?: AbortSignal } = {}): Promise<IngestSummary> {
    const { summary, index } = await runIngest({
      full: opts.full ?? false,
      docsDir: opts.docsDir ?? this.config.docsDir,
      store: this.store,
      embedder: this.makeEmbedder(),
      tokenizer: this.tokenizer,
      chunker: this.config.chunker,
      hnsw: this.config.hnsw,
      ...("batchSize" in this.config.embeddings ? { batchSize: this.config.embeddings.batchSize } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (index.manifest.buildId !== this.snapshot?.index.manifest.buildId) this.adopt(index);
    this.storeProblem = undefined;
    return summary;
  }

  /**
   * Picks up an index published by another process (the CLI, another server worker): when CURRENT names a different
   * folder than the one being served, load it and swap. A failed load keeps serving the current snapshot.
   */
  async reloadIfChanged(): Promise<boolean> {
    let current: string | undefined;
    try {
      current = await this.store.publishedVersion();
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      this.storeProblem = err as AppError;
      return false;
    }
    // The store answered again: a database that was down is back.
    this.storeProblem = undefined;
    if (!this.snapshot && this.failure && isStoreUnavailable(this.failure)) {
      this.failure = undefined;
      this.problem = undefined;
    }
    if (!current || current === this.failedName || this.snapshot?.index.version === current) return false;
    // A failed load keeps serving the current snapshot (and is not retried until another version is published).
    return this.attemptLoad(false);
  }

  /**
   * Polls for a newly published index every `intervalMs` (a file read, or one small query for a database); returns a
   * function that stops it. Polls never overlap, and a failing poll is reported through `status()`, never thrown.
   */
  watchIndex(intervalMs = 1000, onReload?: () => void, onError?: (err: unknown) => void): () => void {
    let busy = false;
    let again = false;
    const poll = (): void => {
      if (busy) {
        // A notice during a poll: look once more afterwards, in case this poll read the version just before it.
        again = true;
        return;
      }
      busy = true;
      this.reloadIfChanged()
        .then((reloaded) => {
          if (reloaded) onReload?.();
        })
        .catch((err: unknown) => onError?.(err))
        .finally(() => {
          busy = false;
          if (again) {
            again = false;
            poll();
          }
        });
    };
    const timer = setInterval(poll, intervalMs);
    timer.unref();
    const unwatch = this.store.watch?.(poll);
    return () => {
      clearInterval(timer);
      unwatch?.();
    };
  }

  listDocuments(): DocumentInfo[] {
    const files = this.snapshot?.index.manifest.files ?? {};
    return Object.entries(files)
      .map(([source, f]) => ({ id: f.docId, source, title: f.title, format: f.format, chunks: f.chunks, bytes: f.bytes, updatedAt: f.updatedAt }))
      .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /**
   * Per document (sorted by source): its title and the distinct heading paths of its chunks, in document order, with
   * a leading heading equal to the title dropped. What example questions are made from.
   */
  listHeadingPaths(): DocumentHeadings[] {
    const chunks = this.snapshot?.index.chunks ?? [];
    const docs = new Map<string, { title: string; chunks: { start: number; headings: string[] }[] }>();
    for (const c of chunks) {
      const doc = docs.get(c.source) ?? { title: c.title, chunks: [] };
      doc.chunks.push({ start: c.start, headings: c.headings });
      docs.set(c.source, doc);
    }
    return [...docs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([source, doc]) => {
        const seen = new Set<string>();
        const paths: string[][] = [];
        for (const c of doc.chunks.sort((a, b) => a.start - b.start)) {
          const path = c.headings[0] === doc.title ? c.headings.slice(1) : c.headings;
          const key = JSON.stringify(path);
          if (path.length === 0 || seen.has(key)) continue;
          seen.add(key);
          paths.push(path);
        }
        return { source, title: doc.title, paths };
      });
  }

  status(): KnowledgeBaseStatus {
    const m = this.snapshot?.index.manifest;
    const problem = this.storeProblem?.message ?? this.problem;
    return {
      status: this.snapshot && !problem ? "ok" : "degraded",
      ...(problem ? { message: problem } : this.snapshot ? {} : { message: this.store.notFound().message }),
      index: {
        documents: m?.counts.documents ?? 0,
        chunks: m?.counts.chunks ?? 0,
        builtAt: m?.builtAt ?? null,
        embeddings: m
          ? { provider: m.embeddings.provider, model: m.embeddings.model, dimensions: m.embeddings.dimensions }
          : { provider: this.config.embeddings.provider, model: "", dimensions: 0 },
      },
    };
  }

  /** Retrieval with chunks and their fused scores, best first. */
  async retrieve(query: string, k: number, signal?: AbortSignal): Promise<RetrievedChunk[]> {
    return (await this.retrieveDetailed(query, k, signal)).chunks;
  }

  /** Retrieval plus what answering needs: the query plan and the snapshot the chunks came from. */
  async retrieveDetailed(query: string, k: number, signal?: AbortSignal): Promise<{ chunks: RetrievedChunk[]; plan: QueryPlan; index: KnowledgeIndex }> {
    const snapshot = this.snapshot;
    if (!snapshot) throw this.unavailable();
    const plan = this.retriever.plan(query);
    const chunks = await this.retriever.search(snapshot, { query, k: Math.min(Math.max(1, k), MAX_K), ...(signal ? { signal } : {}) }, plan);
    return { chunks, plan, index: snapshot.index };
  }

  /** The error queries get while there is no snapshot: 503 with the code and message /health shows. */
  private unavailable(): AppError {
    const f = this.failure;
    return f ? new AppError(f.code, f.message, { status: 503, expose: true }) : this.store.notFound();
  }

  async search(query: string, k: number, signal?: AbortSignal): Promise<SearchHit[]> {
    const chunks = await this.retrieve(query, k, signal);
    const terms = this.tokenizer.analyzeQuery(query).words;
    return chunks.map((c) => toHit(c, terms));
  }
}

/** A store that cannot be reached right now (DB_UNAVAILABLE): says nothing about the index itself. */
function isStoreUnavailable(err: unknown): boolean {
  return isAppError(err) && err.code === "DB_UNAVAILABLE";
}

export function toHit(c: RetrievedChunk, terms: readonly string[]): SearchHit {
  return {
    id: c.id,
    source: c.source,
    title: c.title,
    ...(c.page === undefined ? {} : { page: c.page }),
    headings: c.headings,
    snippet: makeSnippet(c.text, terms),
    score: Math.round(c.score * 1e4) / 1e4,
    text: c.text,
  };
}
