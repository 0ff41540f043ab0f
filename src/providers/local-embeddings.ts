import { createTokenizer, type Analysis, type Tokenizer } from "../text/tokenizer.ts";
import { sha256 } from "../text/hash.ts";
import { type FittableEmbeddingModel, l2normalize } from "./embedding-model.ts";

/**
 * `local-hash`: a deterministic, in-process embedding that needs no download and no key. It is NOT a neural model:
 * it is a TF-IDF vector over jieba words and CJK character bigrams, folded into a fixed number of dimensions with
 * signed feature hashing. It captures lexical overlap (including partial overlap of Chinese compounds through the
 * bigrams), not meaning: synonyms and paraphrases with no shared characters do not match. Hybrid retrieval fuses it
 * with BM25; for semantic recall configure an API embedding model.
 *
 * IDF is fitted on the corpus at a full build and stored with the index, so vectors stay comparable until the next
 * full build.
 */
export const LOCAL_EMBEDDINGS_VERSION = 1;
const BIGRAM_WEIGHT = 0.5;

interface LocalState {
  version: number;
  documents: number;
  idf: Record<string, number>;
}

/** FNV-1a, 32-bit: fast, stable across platforms and runs. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function features(a: Analysis): Map<string, number> {
  const tf = new Map<string, number>();
  for (const w of a.words) tf.set(`w:${w}`, (tf.get(`w:${w}`) ?? 0) + 1);
  for (const b of a.bigrams) tf.set(`b:${b}`, (tf.get(`b:${b}`) ?? 0) + 1);
  return tf;
}

export class LocalHashEmbeddings implements FittableEmbeddingModel {
  readonly provider = "local";
  readonly model = `hash-tfidf-v${LOCAL_EMBEDDINGS_VERSION}`;
  readonly dimensions: number;
  private idf = new Map<string, number>();
  private documents = 0;
  private stateHash = "unfitted";
  private readonly tokenizer: Tokenizer;

  constructor(opts: { dimensions?: number; tokenizer?: Tokenizer } = {}) {
    this.dimensions = opts.dimensions ?? 1024;
    this.tokenizer = opts.tokenizer ?? createTokenizer();
  }

  get id(): string {
    return `local:${this.model}:${this.dimensions}:${this.stateHash}`;
  }

  fit(texts: string[]): void {
    const df = new Map<string, number>();
    for (const t of texts) for (const f of features(this.tokenizer.analyze(t)).keys()) df.set(f, (df.get(f) ?? 0) + 1);
    this.documents = texts.length;
    this.idf = new Map();
    for (const [f, n] of df) this.idf.set(f, Math.log((1 + texts.length) / (1 + n)) + 1);
    this.stateHash = sha256(JSON.stringify([...this.idf.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))).slice(0, 12);
  }

  exportState(): LocalState {
    return { version: LOCAL_EMBEDDINGS_VERSION, documents: this.documents, idf: Object.fromEntries(this.idf) };
  }

  importState(state: unknown): void {
    const s = state as Partial<LocalState> | null;
    if (!s || s.version !== LOCAL_EMBEDDINGS_VERSION || typeof s.idf !== "object" || s.idf === null) {
      throw new Error("local embedding state is missing or from another version");
    }
    this.documents = Number(s.documents) || 0;
    this.idf = new Map(Object.entries(s.idf).filter((e): e is [string, number] => typeof e[1] === "number"));
    this.stateHash = sha256(JSON.stringify([...this.idf.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))).slice(0, 12);
  }

  private vector(a: Analysis): Float32Array {
    const v = new Float32Array(this.dimensions);
    // Unknown features (not seen at fit time) get the highest IDF: they are as rare as anything can be.
    const unseen = Math.log(1 + this.documents) + 1;
    for (const [f, tf] of features(a)) {
      const h = fnv1a(f);
      const sign = h & 0x80000000 ? -1 : 1;
      const kind = f.startsWith("b:") ? BIGRAM_WEIGHT : 1;
      const weight = kind * (1 + Math.log(tf)) * (this.idf.get(f) ?? unseen);
      const i = h % this.dimensions;
      v[i] = (v[i] ?? 0) + sign * weight;
    }
    return l2normalize(v);
  }

  async embedDocuments(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.vector(this.tokenizer.analyze(t)));
  }

  async embedQuery(text: string): Promise<Float32Array> {
    return this.vector(this.tokenizer.analyzeQuery(text));
  }
}
