import { IndexMismatchError } from "../errors/app-error.ts";

/** A nearest neighbour: the docstore position (HNSW label) and its cosine similarity (1 − cosine distance). */
export interface Neighbor {
  label: number;
  similarity: number;
}

/**
 * The dense half of a loaded index, whatever holds the vectors: the in-process HNSW graph (hnswlib) or a table with a
 * pgvector HNSW index. Results may come back synchronously (in process) or as a promise (a database round trip).
 */
export interface VectorSearch {
  readonly dimensions: number;
  search(vector: Float32Array | number[], k: number, signal?: AbortSignal): Neighbor[] | Promise<Neighbor[]>;
}

/** A query vector of another size than the index's: the embedding model changed since the build. */
export function checkQueryDimensions(got: number, holds: number): void {
  if (got !== holds) {
    throw new IndexMismatchError(
      `The embedding model returned ${got}-dimensional vectors but the index holds ${holds}. Rebuild it with: npm run ingest -- --full`,
    );
  }
}
