import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
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

export interface ExactSearchLimits {
  /** Live vectors up to which a search may scan them all. */
  maxVectors: number;
  /** Non-zero query components up to which it does. */
  maxNonZero: number;
}

/**
 * When `search` scans every stored vector (exact) instead of walking the graph. Measured with `npx tsx
 * bench/vector-search-bench.ts` (k 50, ef 768, M 16, 1024 dimensions, 2-core machine shared with other work), µs per
 * query, graph → scan:
 *
 *   local embedder (a question has ~10 of 1024 components non-zero): 268 vectors 164 → 16, 2k 671 → 84,
 *     10k 4901 → 483, 20k 4097 → 763;
 *   dense random (an API model's): 268 183 → 653, 2k 680 → 5686;
 *   1k dense rows, queries with 62 / 120 / 228 / 319 / 403 non-zero: 411 → 165, 405 → 295, 475 → 598, 408 → 734,
 *     412 → 930.
 *
 * Below ~ef vectors hnswlib's walk is exhaustive, so both return the same neighbours with the same similarities, to
 * the bit; above it the scan is the exact one. The scan reads only the query's non-zero components of each vector,
 * so it costs rows × non-zero, while hnswlib pays per node visited (a full SIMD distance, the visited list, two
 * ef-sized heaps) whatever the query. Hence two limits:
 * - `maxNonZero` 128: the crossover is at ~190 non-zero components (between 120 and 228 above). A dense query (an
 *   API model's) is always past it and keeps the graph, which computes dense dot products faster than JS.
 * - `maxVectors` 10,000: for the local embedder's queries the scan is faster at every size measured (10–19 % of the
 *   graph's time up to 20k; the graph's cost levels off past ef while the scan's grows linearly, crossing it, by
 *   extrapolation, well past 100k). What bounds it is the scan's own copy of the vectors, rows × dimensions × 4 bytes
 *   (40 MB at 10k × 1024), read from the graph's file at load (~140 ms at 10k, 6 ms at 268).
 */
export const EXACT_SEARCH: ExactSearchLimits = { maxVectors: 10_000, maxNonZero: 128 };

/**
 * The live vectors for the exact scan, built on first use: one column-major block, component j of row r (the vector
 * of `labels[r]`) at `columns[j * rows + r]`.
 */
interface ExactVectors {
  labels: Int32Array;
  columns: Float32Array;
}

/** A thin wrapper over hnswlib-node: cosine space, labels are docstore positions, capacity grows on demand. */
export class HnswIndex implements VectorSearch {
  private constructor(
    private readonly native: Native,
    readonly dimensions: number,
    private readonly settings: HnswSettings,
    /** When `search` scans instead of walking the graph; tests and benches pass `{ maxVectors: 0 }` (always the graph). */
    readonly exactLimits: ExactSearchLimits = EXACT_SEARCH,
  ) {
    native.setEf(settings.efSearch);
  }

  private exact: ExactVectors | undefined;

  static create(dimensions: number, capacity: number, settings: HnswSettings, exactLimits?: ExactSearchLimits): HnswIndex {
    const native = new HierarchicalNSW("cosine", dimensions);
    native.initIndex(Math.max(capacity, 16), settings.M, settings.efConstruction, 100);
    return new HnswIndex(native, dimensions, settings, exactLimits);
  }

  /**
   * Reads a graph file. Its layout is checked first (`checkHnswFile`): hnswlib trusts the header it reads, so a file of
   * other dimensions or a damaged one would otherwise be read out of bounds instead of refused.
   */
  static read(file: string, dimensions: number, settings: HnswSettings, exactLimits?: ExactSearchLimits): HnswIndex {
    const problem = checkHnswFile(file, dimensions);
    if (problem) throw new Error(`hnsw.bin ${problem}`);
    const native = new HierarchicalNSW("cosine", dimensions);
    native.readIndexSync(file, true);
    const index = new HnswIndex(native, dimensions, settings, exactLimits);
    index.loadExactVectors(file);
    return index;
  }

  /**
   * For an index small enough to be scanned, takes the vectors for the scan from `file`, the graph this index holds
   * as written (just read, or just written by `write`). Reading them from the file is one read; asking hnswlib for
   * them (`getPoint`, one N-API number at a time) costs ~0.1 ms per vector, which the first query would pay.
   */
  loadExactVectors(file: string): void {
    if (this.count > this.exactLimits.maxVectors) return;
    const vectors = readVectorsFromFile(file, this.dimensions);
    // An API model's vectors are dense and so are its queries, which never take the scan: no copy is kept for them
    // (a sparse query would still get one, from hnswlib).
    this.exact = vectors.nonZeroShare <= 0.5 ? vectors : undefined;
  }

  /** Whether this index holds a copy of its vectors for the exact scan (rows × dimensions × 4 bytes). */
  get holdsScanCopy(): boolean {
    return this.exact !== undefined;
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
    this.exact = undefined;
  }

  /**
   * The `k` nearest live vectors, best first: an exact scan for a small index and a query with few non-zero
   * components (the local embedder's), the graph otherwise (see EXACT_SEARCH).
   */
  search(vector: Float32Array | number[], k: number): Neighbor[] {
    checkQueryDimensions(vector.length, this.dimensions);
    if (this.count <= this.exactLimits.maxVectors) {
      const query = scanQuery(vector);
      if (query.nonZero <= this.exactLimits.maxNonZero) return this.scan(query, k);
    }
    return this.searchGraph(vector, k);
  }

  /** hnswlib's approximate search (exhaustive for a graph smaller than the search width). */
  searchGraph(vector: Float32Array | number[], k: number): Neighbor[] {
    checkQueryDimensions(vector.length, this.dimensions);
    const n = Math.min(k, this.count);
    if (n <= 0) return [];
    this.native.setEf(Math.max(this.settings.efSearch, n));
    const { neighbors, distances } = this.native.searchKnn(Array.from(vector), n);
    return neighbors.map((label, i) => ({ label, similarity: 1 - (distances[i] ?? 1) }));
  }

  /**
   * Every live vector scored against the query, the `k` best kept: what the graph search computes, without the graph.
   * Same space as hnswlib's "cosine": the query is normalised as hnswlib does it (in float32), the stored vectors
   * already are, and similarity is 1 − the float32 inner-product distance hnswlib returns. Ties go to the lower label
   * (the graph's order too when labels were added in order, as builds do). The inner products are summed as hnswlib
   * sums them (see `innerProductLanes`), so similarities are the graph's to the bit on a default x64 build.
   */
  searchExact(vector: Float32Array | number[], k: number): Neighbor[] {
    checkQueryDimensions(vector.length, this.dimensions);
    return this.scan(scanQuery(vector), k);
  }

  private scan(query: ScanQuery, k: number): Neighbor[] {
    const { labels, columns } = this.exactVectors();
    const rows = labels.length;
    const n = Math.min(k, rows);
    if (n <= 0) return [];
    const { at, weight, nonZero } = query;
    // Column by column over the query's non-zero components: a sparse query reads only those columns, each one
    // sequential memory, and a dense one streams through the block once. The sums are hnswlib's own, in float32 and
    // in its order (`innerProductLanes`), so the similarities come out bit for bit as the graph search reports them.
    const lanes = innerProductLanes(this.dimensions);
    const sums = new Float32Array(5 * rows); // four SIMD lanes, then the sequential tail
    for (let t = 0; t < nonZero; t++) {
      const j = at[t] as number;
      const w = weight[t] as number;
      const base = j * rows;
      const acc = (j < lanes ? j & 3 : 4) * rows;
      for (let r = 0; r < rows; r++) sums[acc + r] = (sums[acc + r] as number) + Math.fround(w * (columns[base + r] as number));
    }
    const sims = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const tail = sums[4 * rows + r] as number;
      let dot = tail;
      if (lanes > 0) {
        const simd = Math.fround(
          Math.fround(Math.fround((sums[r] as number) + (sums[rows + r] as number)) + (sums[2 * rows + r] as number)) + (sums[3 * rows + r] as number),
        );
        dot = lanes === this.dimensions ? simd : Math.fround(simd + tail);
      }
      // hnswlib's cosine distance is 1 − the inner product, in float32; similarity is 1 − the distance.
      sims[r] = 1 - Math.fround(1 - dot);
    }
    // Top n, best first: the n-th best similarity found by selection; the rows above it and, at it, the lowest labels
    // (rows are in label order) picked; then only those sorted, stably, so equal similarities stay in label order.
    const cut = n === rows ? Number.NEGATIVE_INFINITY : nthLargest(sims.slice(), n);
    const picked = new Int32Array(n);
    let count = 0;
    for (let r = 0; r < rows; r++) if ((sims[r] as number) > cut) picked[count++] = r;
    for (let r = 0; r < rows && count < n; r++) if (sims[r] === cut) picked[count++] = r;
    if (n > 256) {
      picked.set(Array.from(picked).sort((x, y) => (sims[y] as number) - (sims[x] as number) || x - y));
    } else {
      for (let i = 1; i < n; i++) {
        const r = picked[i] as number;
        const sim = sims[r] as number;
        let j = i;
        while (j > 0 && (sims[picked[j - 1] as number] as number) < sim) {
          picked[j] = picked[j - 1] as number;
          j--;
        }
        picked[j] = r;
      }
    }
    const out: Neighbor[] = [];
    for (let i = 0; i < n; i++) {
      const r = picked[i] as number;
      out.push({ label: labels[r] as number, similarity: sims[r] as number });
    }
    return out;
  }

  /**
   * The vectors for the scan: as loaded from the graph's file, or else copied out of hnswlib on first use (a graph
   * built in memory and not written), in label order, tombstones left out.
   */
  private exactVectors(): ExactVectors {
    if (this.exact) return this.exact;
    const dims = this.dimensions;
    const ids = this.native.getIdsList().sort((a, b) => a - b);
    const live: { label: number; point: number[] }[] = [];
    for (const label of ids) {
      try {
        live.push({ label, point: this.native.getPoint(label) });
      } catch {
        // Marked deleted: hnswlib reports it as "Label not found".
      }
    }
    const rows = live.length;
    const columns = new Float32Array(rows * dims);
    live.forEach(({ point }, r) => {
      for (let j = 0; j < dims; j++) columns[j * rows + r] = point[j] ?? 0;
    });
    this.exact = { labels: Int32Array.from(live, (l) => l.label), columns };
    return this.exact;
  }

  /** The stored vector of a live label (hnswlib keeps them normalised for the cosine space). */
  vector(label: number): Float32Array {
    return Float32Array.from(this.native.getPoint(label));
  }

  /** Removes a label from search results; its slot stays (a tombstone) until the next full build. */
  remove(label: number): void {
    this.native.markDelete(label);
    this.exact = undefined;
  }

  write(file: string): void {
    this.native.writeIndexSync(file);
  }
}

/**
 * The live vectors of a graph file, for the exact scan: each element's level-0 record holds its link list (whose header
 * carries the deleted mark, hnswalg.h `isMarkedDeleted`), its vector and its label, at the offsets the header gives.
 * The layout is the one `checkHnswFile` checks; hnswlib stores cosine vectors normalised.
 */
function readVectorsFromFile(file: string, dimensions: number): ExactVectors & { nonZeroShare: number } {
  const bytes = readFileSync(file);
  const u64 = (offset: number) => Number(bytes.readBigUInt64LE(offset));
  const count = u64(16);
  const perElement = u64(24);
  const labelOffset = u64(32);
  const dataOffset = u64(40);
  const live: { label: number; at: number }[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * perElement;
    if ((bytes[at + 2] ?? 0) & DELETE_MARK) continue;
    live.push({ label: u64(at + labelOffset), at: at + dataOffset });
  }
  live.sort((a, b) => a.label - b.label);
  const rows = live.length;
  const columns = new Float32Array(rows * dimensions);
  // hnswlib writes its floats in the machine's byte order, which is what a Float32Array view reads.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  const floats = new Float32Array(aligned.buffer, aligned.byteOffset, Math.floor(aligned.length / 4));
  let nonZero = 0;
  live.forEach(({ at }, r) => {
    const start = at / 4;
    for (let j = 0; j < dimensions; j++) {
      const x = floats[start + j] as number;
      columns[j * rows + r] = x;
      if (x !== 0) nonZero++;
    }
  });
  return { labels: Int32Array.from(live, (l) => l.label), columns, nonZeroShare: rows ? nonZero / (rows * dimensions) : 0 };
}

/** hnswalg.h DELETE_MARK: the bit `markDelete` sets in the third byte of an element's level-0 link list header. */
const DELETE_MARK = 0x01;

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

/**
 * A query as the scan reads it: its non-zero components (`at`, `weight`, the first `nonZero` entries), normalised as
 * hnswlib's normalizePoint normalises a query for the cosine space (in float32).
 */
interface ScanQuery {
  at: Int32Array;
  weight: Float64Array;
  nonZero: number;
}

function scanQuery(vector: Float32Array | number[]): ScanQuery {
  const dims = vector.length;
  const at = new Int32Array(dims);
  const weight = new Float64Array(dims);
  let nonZero = 0;
  let sumSq = 0;
  for (let j = 0; j < dims; j++) {
    const x = Math.fround(vector[j] ?? 0);
    if (x === 0) continue;
    sumSq = Math.fround(sumSq + Math.fround(x * x));
    at[nonZero] = j;
    weight[nonZero++] = x;
  }
  const norm = Math.fround(Math.sqrt(sumSq));
  if (norm > 0) for (let t = 0; t < nonZero; t++) weight[t] = Math.fround((weight[t] as number) / norm);
  return { at, weight, nonZero };
}

/**
 * How hnswlib-node sums an inner product (hnswlib space_ip.h), which the scan copies so its similarities are the
 * graph's to the bit: on x64 (compiled with SSE, node-gyp's default) the first `lanes` components go into four float32
 * accumulators by index mod 4, added up as ((l0 + l1) + l2) + l3, and any remaining components are summed one by one
 * and added last; elsewhere there is no SIMD path and all components are summed one by one (lanes 0). Products and
 * sums are float32 (Float32Array stores round each step). An hnswlib built with AVX, or a compiler that fuses
 * multiply-adds, may differ in the last float32 digit (~6e-8) — never in the ranking beyond such near-ties.
 */
function innerProductLanes(dimensions: number): number {
  if (process.arch !== "x64") return 0;
  if (dimensions % 4 === 0) return dimensions;
  if (dimensions > 16) return dimensions - (dimensions % 16);
  if (dimensions > 4) return dimensions - (dimensions % 4);
  return 0;
}

/** The n-th largest value of `values` (1-based; reorders `values`): quickselect, linear on average. */
function nthLargest(values: Float64Array, n: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) > pivot) i++;
      while ((values[j] as number) < pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target] as number;
  }
  return values[target] as number;
}
