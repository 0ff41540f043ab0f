import type { FittableEmbeddingModel } from "../../src/providers/embedding-model.ts";
import { LocalHashEmbeddings } from "../../src/providers/local-embeddings.ts";
import type { Tokenizer } from "../../src/text/tokenizer.ts";

/**
 * A deterministic embedder for ingestion tests: the real local hash embedding (so it is fittable, its state is stored
 * with the index, and its vectors are comparable with an uncounted one) plus a record of every text passed to
 * `embedDocuments`. Hand the SAME instance to `KnowledgeBase.open(config, { makeEmbedder: () => counter })`: the
 * knowledge base calls makeEmbedder for every ingest and every load, and a fresh instance would start counting at zero.
 * Query embeddings are not counted: only document embeddings cost anything at ingest time.
 */
export class CountingEmbedder implements FittableEmbeddingModel {
  readonly embeddedTexts: string[] = [];
  /** Number of embedDocuments calls (batches). */
  calls = 0;
  private readonly inner: LocalHashEmbeddings;
  /** Optional pause per batch, so a build can be observed (or killed) while it embeds. */
  private readonly delayMs: number;

  constructor(opts: { dimensions?: number; tokenizer?: Tokenizer; delayMsPerBatch?: number } = {}) {
    this.inner = new LocalHashEmbeddings({
      ...(opts.dimensions === undefined ? {} : { dimensions: opts.dimensions }),
      ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
    });
    this.delayMs = opts.delayMsPerBatch ?? 0;
  }

  get id(): string {
    return this.inner.id;
  }
  get provider(): string {
    return this.inner.provider;
  }
  get model(): string {
    return this.inner.model;
  }
  get dimensions(): number {
    return this.inner.dimensions;
  }

  /** Texts embedded since the last reset. */
  get count(): number {
    return this.embeddedTexts.length;
  }

  reset(): void {
    this.embeddedTexts.length = 0;
    this.calls = 0;
  }

  async embedDocuments(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    this.calls++;
    this.embeddedTexts.push(...texts);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    signal?.throwIfAborted();
    return this.inner.embedDocuments(texts);
  }

  embedQuery(text: string): Promise<Float32Array> {
    return this.inner.embedQuery(text);
  }

  fit(texts: string[]): void {
    this.inner.fit(texts);
  }

  exportState(): unknown {
    return this.inner.exportState();
  }

  importState(state: unknown): void {
    this.inner.importState(state);
  }
}
