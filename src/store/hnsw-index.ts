import hnswlib from "hnswlib-node";
import { IndexMismatchError } from "../errors/app-error.ts";

const { HierarchicalNSW } = hnswlib;
type Native = InstanceType<typeof HierarchicalNSW>;

export interface HnswSettings {
  M: number;
  efConstruction: number;
  /** Search width. hnswlib resets it to 10 on load, which costs recall, so it is set explicitly every time. */
  efSearch: number;
}

export interface Neighbor {
  label: number;
  /** Cosine similarity (1 − cosine distance). */
  similarity: number;
}

/** A thin wrapper over hnswlib-node: cosine space, labels are docstore positions, capacity grows on demand. */
export class HnswIndex {
  private constructor(
    private readonly native: Native,
    readonly dimensions: number,
    private readonly settings: HnswSettings,
  ) {
    native.setEf(settings.efSearch);
  }

  static create(dimensions: number, capacity: number, settings: HnswSettings): HnswIndex {
    const native = new HierarchicalNSW("cosine", dimensions);
    native.initIndex(Math.max(capacity, 16), settings.M, settings.efConstruction, 100);
    return new HnswIndex(native, dimensions, settings);
  }

  static read(file: string, dimensions: number, settings: HnswSettings): HnswIndex {
    const native = new HierarchicalNSW("cosine", dimensions);
    native.readIndexSync(file, true);
    return new HnswIndex(native, dimensions, settings);
  }

  get count(): number {
    return this.native.getCurrentCount();
  }

  add(vector: Float32Array | number[], label: number): void {
    if (vector.length !== this.dimensions) {
      throw new Error(`vector has ${vector.length} dimensions, the index ${this.dimensions}`);
    }
    if (this.native.getCurrentCount() >= this.native.getMaxElements()) {
      this.native.resizeIndex(Math.max(16, this.native.getMaxElements() * 2));
    }
    this.native.addPoint(Array.from(vector), label);
  }

  search(vector: Float32Array | number[], k: number): Neighbor[] {
    if (vector.length !== this.dimensions) {
      throw new IndexMismatchError(
        `The embedding model returned ${vector.length}-dimensional vectors but the index holds ${this.dimensions}. Rebuild it with: npm run ingest -- --full`,
      );
    }
    const n = Math.min(k, this.count);
    if (n <= 0) return [];
    this.native.setEf(Math.max(this.settings.efSearch, n));
    const { neighbors, distances } = this.native.searchKnn(Array.from(vector), n);
    return neighbors.map((label, i) => ({ label, similarity: 1 - (distances[i] ?? 1) }));
  }

  /** The stored vector of a live label (hnswlib keeps them normalised for the cosine space). */
  vector(label: number): Float32Array {
    return Float32Array.from(this.native.getPoint(label));
  }

  /** Removes a label from search results; its slot stays (a tombstone) until the next full build. */
  remove(label: number): void {
    this.native.markDelete(label);
  }

  write(file: string): void {
    this.native.writeIndexSync(file);
  }
}
