import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import hnswlib from "hnswlib-node";
import { checkQueryDimensions, type Neighbor, type VectorSearch } from "./vector-search.ts";

const { HierarchicalNSW } = hnswlib;
type Native = InstanceType<typeof HierarchicalNSW>;

export interface HnswSettings {
  M: number;
  efConstruction: number;
  /** Search width. hnswlib resets it to 10 on load, which costs recall, so it is set explicitly every time. */
  efSearch: number;
}

export type { Neighbor } from "./vector-search.ts";

/** A thin wrapper over hnswlib-node: cosine space, labels are docstore positions, capacity grows on demand. */
export class HnswIndex implements VectorSearch {
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

  /**
   * Reads a graph file. Its layout is checked first (`checkHnswFile`): hnswlib trusts the header it reads, so a file of
   * other dimensions or a damaged one would otherwise be read out of bounds instead of refused.
   */
  static read(file: string, dimensions: number, settings: HnswSettings): HnswIndex {
    const problem = checkHnswFile(file, dimensions);
    if (problem) throw new Error(`hnsw.bin ${problem}`);
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
    checkQueryDimensions(vector.length, this.dimensions);
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

/** hnswlib's file header (hnswalg.h saveIndex, 64-bit): six size_t, two 32-bit ints, three size_t, a double, a size_t. */
const HEADER_BYTES = 96;

/**
 * Checks a graph file hnswlib wrote: a header that matches `dimensions`, an entry point inside the graph, and link
 * lists that end exactly at the end of the file (the check hnswlib's own loader does, plus the layout, which it does
 * not). Reads the header and the link lists only, not the vectors. Returns what is wrong, or undefined.
 * Also used right after a write: hnswlib's writer ignores write errors (a full disk leaves a short file behind).
 */
export function checkHnswFile(file: string, dimensions: number, expectedCount?: number): string | undefined {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    if (size < HEADER_BYTES) return `is ${size} bytes long, shorter than its header`;
    const header = Buffer.alloc(HEADER_BYTES);
    readSync(fd, header, 0, HEADER_BYTES, 0);
    const u64 = (offset: number) => header.readBigUInt64LE(offset);
    const [offsetLevel0, maxElements, count, perElement, labelOffset, offsetData] = [0, 8, 16, 24, 32, 40].map(u64) as bigint[];
    const maxLevel = header.readInt32LE(48);
    const entryPoint = header.readUInt32LE(52);
    const [maxM, maxM0, M] = [56, 64, 72].map(u64) as bigint[];
    const linksLevel0 = (maxM0 ?? 0n) * 4n + 4n;
    const vectorBytes = BigInt(dimensions) * 4n;
    const layoutOk =
      offsetLevel0 === 0n &&
      offsetData === linksLevel0 &&
      labelOffset === linksLevel0 + vectorBytes &&
      perElement === linksLevel0 + vectorBytes + 8n &&
      maxM === M &&
      maxM0 === 2n * (M ?? 0n) &&
      (M ?? 0n) > 0n &&
      (M ?? 0n) < 10_000n;
    if (!layoutOk) return `does not have the layout of a ${dimensions}-dimensional cosine index`;
    const n = count ?? 0n;
    // Capacity doubles as the graph grows: far more than the count means a damaged header (and a huge allocation).
    if (n > (maxElements ?? 0n) || (maxElements ?? 0n) > 4n * n + 64n) return `has an implausible element count (${n} of ${maxElements})`;
    if (expectedCount !== undefined && n !== BigInt(expectedCount)) return `holds ${n} vectors, expected ${expectedCount}`;
    if (n > 0n && (entryPoint >= n || maxLevel < 0 || maxLevel > 64)) return "has an entry point outside the graph";
    const linksStart = BigInt(HEADER_BYTES) + n * (perElement ?? 0n);
    if (linksStart > BigInt(size)) return `is truncated (${size} bytes, its vectors alone need ${linksStart})`;
    const links = Buffer.alloc(size - Number(linksStart));
    readSync(fd, links, 0, links.length, Number(linksStart));
    let pos = 0;
    for (let i = 0n; i < n; i++) {
      if (pos + 4 > links.length) return `is truncated (link list ${i} of ${n} is missing)`;
      pos += 4 + links.readUInt32LE(pos);
    }
    if (pos !== links.length) return pos > links.length ? "is truncated (the last link list is cut off)" : "has unexpected bytes after its last link list";
    return undefined;
  } finally {
    closeSync(fd);
  }
}
