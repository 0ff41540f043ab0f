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
