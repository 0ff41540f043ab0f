import type { AppError } from "../errors/app-error.ts";
import type { ChunkRecord } from "./chunk-record.ts";
import type { KnowledgeIndex, LexicalTokens } from "./knowledge-index.ts";
import type { Manifest } from "./manifest.ts";

/**
 * The vectors of a build in progress, by label (docstore position). An incremental build starts from the previous
 * index's labels and removes some; a full build starts empty. `copy` reuses a vector the previous index already holds
 * (an unchanged paragraph, a renamed file) without asking the embedding model again.
 */
export interface VectorBuilder {
  add(vector: Float32Array, label: number): void;
  copy(fromPreviousLabel: number, label: number): void;
  remove(label: number): void;
}

/** Everything but the vectors, which the builder holds. */
export interface NewIndex {
  manifest: Omit<Manifest, "checksums" | "buildId" | "builtAt">;
  slots: (ChunkRecord | null)[];
  tokens: LexicalTokens[];
  embedderState?: unknown;
}

/**
 * Where published indexes live: files under VECTORSTORE_DIR (hnswlib, the default) or PostgreSQL + pgvector
 * (VECTOR_STORE=pgvector). Ingestion, the knowledge base and the server only talk to this interface, so both stores
 * give the same CLI, API and answers. Publishing is atomic in both: a reader sees the old index or the new one.
 */
export interface IndexStore {
  readonly kind: "hnsw" | "pgvector";
  /** Whether anything is published — true also for a damaged index, which must be reported, never built over. */
  hasIndex(): Promise<boolean>;
  /** A cheap id of what is published now; a change means "load it again". */
  publishedVersion(): Promise<string | undefined>;
  /** Load the published index; IndexNotFound / IndexMismatch / IndexCorrupt (and, for a database, DB_UNAVAILABLE). */
  read(opts: { efSearch: number }): Promise<KnowledgeIndex>;
  /** One rebuild at a time across every process using this store; throws RebuildBusyError (409) otherwise. */
  lock(): Promise<() => Promise<void>>;
  /** With the lock held: remove what builds that died left behind. */
  removeLeftovers(): Promise<void>;
  /** Vectors for a new build: from `previous` kept in place (incremental) or empty. */
  builder(opts: { dimensions: number; capacity: number; previous: KnowledgeIndex | undefined; incremental: boolean }): Promise<VectorBuilder>;
  /** Write the build and publish it atomically; older versions are cleaned up. Returns the loaded snapshot. */
  publish(build: NewIndex, vectors: VectorBuilder, previous: KnowledgeIndex | undefined): Promise<KnowledgeIndex>;
  /**
   * Optional push notice of a new publication (PostgreSQL LISTEN/NOTIFY), so replicas switch at once instead of at
   * their next poll; polling stays the safety net. Returns a function that stops listening.
   */
  watch?(onPublished: () => void): () => void;
  /** The error for "nothing published yet", with the command that builds it. */
  notFound(): AppError;
  close(): Promise<void>;
}
