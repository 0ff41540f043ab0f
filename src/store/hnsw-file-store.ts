import { basename } from "node:path";
import { type AppError, IndexNotFoundError } from "../errors/app-error.ts";
import { acquireRebuildLock } from "../ingest/rebuild-lock.ts";
import { HnswIndex, type HnswSettings } from "./hnsw-index.ts";
import { INDEX_PREFIX, readCurrentName, removeBuildLeftovers } from "./index-files.ts";
import type { IndexStore, NewIndex, VectorBuilder } from "./index-store.ts";
import { hasIndex, hnswFileOf, type KnowledgeIndex, readIndex, writeIndex } from "./knowledge-index.ts";

/** The builder is the graph itself: an incremental build edits a copy of the previous graph read from its file. */
class HnswBuilder implements VectorBuilder {
  constructor(
    readonly graph: HnswIndex,
    private readonly previous: HnswIndex | undefined,
  ) {}

  add(vector: Float32Array, label: number): void {
    this.graph.add(vector, label);
  }

  copy(from: number, label: number): void {
    if (!this.previous) throw new Error("no previous index to copy a vector from");
    this.graph.add(this.previous.vector(from), label);
  }

  remove(label: number): void {
    this.graph.remove(label);
  }
}

/**
 * The default store: one folder per published index under VECTORSTORE_DIR (hnswlib graph, docstore, lexical tokens,
 * checksummed manifest) and a CURRENT pointer swapped by an atomic rename. See index-files.ts for the layout.
 */
export class HnswFileStore implements IndexStore {
  readonly kind = "hnsw";

  constructor(
    readonly dir: string,
    private readonly settings: HnswSettings,
  ) {}

  async hasIndex(): Promise<boolean> {
    return hasIndex(this.dir);
  }

  async publishedVersion(): Promise<string | undefined> {
    const name = readCurrentName(this.dir);
    return name?.startsWith(INDEX_PREFIX) ? name.slice(INDEX_PREFIX.length) : undefined;
  }

  async read(opts: { efSearch: number }): Promise<KnowledgeIndex> {
    return readIndex(this.dir, opts);
  }

  async lock(): Promise<() => Promise<void>> {
    const release = acquireRebuildLock(this.dir);
    return async () => release();
  }

  async removeLeftovers(): Promise<void> {
    removeBuildLeftovers(this.dir);
  }

  async builder(opts: { dimensions: number; capacity: number; previous: KnowledgeIndex | undefined; incremental: boolean }): Promise<VectorBuilder> {
    const previous = opts.previous?.vectors instanceof HnswIndex ? opts.previous.vectors : undefined;
    if (opts.incremental && opts.previous) {
      const file = hnswFileOf(opts.previous);
      // A fresh copy of the graph, not the one the live snapshot is answering from.
      const graph = file ? HnswIndex.read(file, opts.dimensions, this.settings) : HnswIndex.create(opts.dimensions, opts.capacity, this.settings);
      return new HnswBuilder(graph, previous);
    }
    return new HnswBuilder(HnswIndex.create(opts.dimensions, opts.capacity, this.settings), previous);
  }

  async publish(build: NewIndex, vectors: VectorBuilder, previous: KnowledgeIndex | undefined): Promise<KnowledgeIndex> {
    if (!(vectors instanceof HnswBuilder)) throw new Error("an hnswlib store publishes only its own builds");
    // The version being replaced stays one more round: a server that read CURRENT a moment ago may still be loading
    // it. That is what CURRENT names now — also for a --full build, which has no `previous` to go by.
    const keep = [readCurrentName(this.dir), previous?.dir ? basename(previous.dir) : undefined].filter((n): n is string => Boolean(n));
    return writeIndex(this.dir, { ...build, hnsw: vectors.graph }, keep);
  }

  notFound(): AppError {
    return new IndexNotFoundError(this.dir);
  }

  async close(): Promise<void> {}
}
