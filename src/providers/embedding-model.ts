/**
 * Our own small embedding interface: the rest of the code never sees LangChain or HTTP details.
 * `id` names everything that changes the vectors (provider, model, dimensions, fitted state) and is stored in the
 * index manifest; an index built with one id is never queried with another.
 */
export interface EmbeddingModel {
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly dimensions: number;
  embedDocuments(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  embedQuery(text: string, signal?: AbortSignal): Promise<Float32Array>;
  /** Learn `dimensions` from the provider when it is not configured (0 until then). */
  probe?(signal?: AbortSignal): Promise<number>;
}

/** An embedder whose vectors depend on corpus statistics (the local one: IDF). Fitted on a full build, then frozen. */
export interface FittableEmbeddingModel extends EmbeddingModel {
  fit(texts: string[]): void;
  exportState(): unknown;
  importState(state: unknown): void;
}

export function isFittable(model: EmbeddingModel): model is FittableEmbeddingModel {
  return typeof (model as Partial<FittableEmbeddingModel>).fit === "function";
}

export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / norm;
  return v;
}
