import { existsSync, readFileSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { AppError, DiskFullError, describeError, IndexCorruptError, IndexNotFoundError, isDiskFull } from "../errors/app-error.ts";
import { Bm25Index } from "./bm25-index.ts";
import type { ChunkRecord } from "./chunk-record.ts";
import { checkHnswFile, HnswIndex, type HnswSettings } from "./hnsw-index.ts";
import {
  createTempIndexDir,
  discardBuild,
  fileChecksum,
  newBuildId,
  publishIndexDir,
  readCurrentPointer,
  removeStaleIndexDirs,
  syncFile,
  writeDurable,
} from "./index-files.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import type { VectorSearch } from "./vector-search.ts";

const FILES = { manifest: "manifest.json", chunks: "chunks.json", lexical: "lexical.json", hnsw: "hnsw.bin", embedder: "embedder.json" } as const;

export interface LexicalTokens {
  words: string[];
  bigrams: string[];
}

/**
 * Everything a build produces, before it is written. `slots` are HNSW labels: a removed chunk leaves a `null`
 * tombstone (its vector is marked deleted), so an incremental build keeps every other vector where it is.
 * `hnsw` is the graph to write: a fresh one for a full build, the previous one updated in place for an incremental one.
 */
export interface IndexBuild {
  manifest: Omit<Manifest, "checksums" | "buildId" | "builtAt">;
  slots: (ChunkRecord | null)[];
  tokens: LexicalTokens[];
  hnsw: HnswIndex;
  embedderState?: unknown;
}

/**
 * A loaded, immutable index snapshot: docstore, HNSW graph and the two lexical indexes (jieba words, CJK bigrams).
 * Readers hold a reference to one snapshot for the whole query, so a swap to a newer one never mixes results.
 */
export class KnowledgeIndex {
  private wordsIndex: Bm25Index | undefined;
  private bigramsIndex: Bm25Index | undefined;

  constructor(
    readonly dir: string | undefined,
    readonly manifest: Manifest,
    /** Chunk per HNSW label; `null` where a chunk was removed by an incremental build. */
    readonly slots: readonly (ChunkRecord | null)[],
    readonly tokens: readonly LexicalTokens[],
    /** The dense side: the in-process HNSW graph, or a pgvector table. */
    readonly vectors: VectorSearch,
    readonly embedderState: unknown,
  ) {}

  /** What this snapshot was published as (the build id): a store reporting another version has a newer index. */
  get version(): string {
    return this.manifest.buildId;
  }

  /** The hnswlib graph, for the file store and its tests. */
  get hnsw(): HnswIndex {
    if (this.vectors instanceof HnswIndex) return this.vectors;
    throw new Error("this index keeps its vectors in a database, not in an hnswlib graph");
  }

  /**
   * The BM25 indexes are built on first use, not on load: an incremental build loads the published index only to
   * reuse its chunks and vectors, and building both (the larger part of a load) was most of a no-change ingest.
   * KnowledgeBase builds them before it swaps a snapshot in, so no query pays for it.
   */
  get words(): Bm25Index {
    this.wordsIndex ??= new Bm25Index(this.tokens.map((t) => t.words));
    return this.wordsIndex;
  }

  get bigrams(): Bm25Index {
    this.bigramsIndex ??= new Bm25Index(this.tokens.map((t) => t.bigrams));
    return this.bigramsIndex;
  }

  get documentCount(): number {
    return this.manifest.counts.documents;
  }

  private liveChunks: readonly ChunkRecord[] | undefined;

  /** The live chunks (tombstones skipped), in label order. */
  get chunks(): readonly ChunkRecord[] {
    this.liveChunks ??= this.slots.filter((c): c is ChunkRecord => c !== null);
    return this.liveChunks;
  }

  private readonly setCache = new Map<number, { words: ReadonlySet<string>; bigrams: ReadonlySet<string> }>();

  /**
   * Token sets of a chunk, built on first use and kept (bounded) for the life of this snapshot: retrieval needs them
   * for coverage and de-duplication on every query, and popular chunks come back again and again.
   */
  tokenSets(position: number): { words: ReadonlySet<string>; bigrams: ReadonlySet<string> } {
    let sets = this.setCache.get(position);
    if (!sets) {
      const t = this.tokens[position];
      sets = { words: new Set(t?.words ?? []), bigrams: new Set(t?.bigrams ?? []) };
      if (this.setCache.size >= MAX_CACHED) this.setCache.clear();
      this.setCache.set(position, sets);
    }
    return sets;
  }

  private readonly memo = new Map<string, unknown>();

  /** A per-snapshot memo for derived data other modules compute from chunks (e.g. sentence analyses); bounded. */
  memoize<T>(key: string, compute: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = compute();
    if (this.memo.size >= MAX_CACHED) this.memo.clear();
    this.memo.set(key, value);
    return value;
  }
}

/** Entries kept per cache: enough for every chunk of a mid-sized knowledge base, bounded for huge ones. */
const MAX_CACHED = 20_000;

function readJson(dir: string, name: string): unknown {
  return JSON.parse(readFileSync(join(dir, name), "utf8"));
}

/**
 * Write a build to a temp folder, publish it atomically, and clean up older versions. Returns the loaded snapshot.
 * A failure at any step (a full disk, most likely) removes what this build wrote and leaves the published index as it
 * was; ENOSPC/EDQUOT become a DiskFullError (507 DISK_FULL) that says so.
 */
export function writeIndex(storeDir: string, build: IndexBuild, keep: readonly string[] = []): KnowledgeIndex {
  const { hnsw } = build;
  if (hnsw.count !== build.slots.length || build.tokens.length !== build.slots.length) {
    throw new Error(`index build is inconsistent: ${build.slots.length} slots, ${hnsw.count} vectors, ${build.tokens.length} token lists`);
  }
  const buildId = newBuildId();

  let name: string;
  let manifest: Manifest;
  try {
    const tmp = createTempIndexDir(storeDir, buildId);
    const checksums: Record<string, string> = {};
    checksums[FILES.chunks] = writeDurable(join(tmp, FILES.chunks), JSON.stringify(build.slots));
    const lexical = { words: build.tokens.map((t) => t.words.join(" ")), bigrams: build.tokens.map((t) => t.bigrams.join(" ")) };
    checksums[FILES.lexical] = writeDurable(join(tmp, FILES.lexical), JSON.stringify(lexical));
    if (build.embedderState !== undefined) {
      checksums[FILES.embedder] = writeDurable(join(tmp, FILES.embedder), JSON.stringify(build.embedderState));
    }
    const hnswFile = join(tmp, FILES.hnsw);
    hnsw.write(hnswFile);
    // hnswlib writes natively and ignores write errors: a full disk leaves a short file that would otherwise be
    // checksummed and published as if complete. It is not fsynced either.
    const problem = existsSync(hnswFile) ? checkHnswFile(hnswFile, hnsw.dimensions, hnsw.count) : "was not created";
    if (problem) throw incompleteWrite(tmp, `${FILES.hnsw} ${problem}`);
    // A small index answers by scanning its vectors: take them from the file now, not from hnswlib at the first query.
    hnsw.loadExactVectors(hnswFile);
    syncFile(hnswFile);
    checksums[FILES.hnsw] = fileChecksum(hnswFile);
    manifest = { ...build.manifest, buildId, builtAt: new Date().toISOString(), checksums };
    writeDurable(join(tmp, FILES.manifest), JSON.stringify(manifest, null, 2));
    name = publishIndexDir(storeDir, tmp, buildId);
  } catch (err) {
    try {
      discardBuild(storeDir, buildId);
    } catch {
      // Never hides the error above; what is left is a leftover the next build removes under the lock.
    }
    if (isDiskFull(err)) throw new DiskFullError(DISK_FULL_MESSAGE, err);
    throw err;
  }
  // Published. The version just replaced stays one more round: a server that read CURRENT a moment ago may still be
  // loading it. Failing to remove old versions does not undo the build.
  try {
    removeStaleIndexDirs(storeDir, [name, ...keep]);
  } catch {
    // Removed by the next build.
  }
  return new KnowledgeIndex(join(storeDir, name), manifest, build.slots, build.tokens, hnsw, build.embedderState);
}

const DISK_FULL_MESSAGE =
  "Not enough disk space to write the index (VECTORSTORE_DIR). Nothing was published: the previous index is still served. Free some space and rebuild.";

/** A native write that came out short: a full disk, when the filesystem says so, otherwise an I/O failure. */
function incompleteWrite(dir: string, what: string): Error {
  let free: number | undefined;
  try {
    const fs = statfsSync(dir);
    free = fs.bavail * fs.bsize;
  } catch {
    // Unknown: reported as incomplete below.
  }
  if (free !== undefined && free < 1024 * 1024) return new DiskFullError(DISK_FULL_MESSAGE, new Error(what));
  return new AppError(
    "INGEST_FAILED",
    `The index could not be written completely (${what}): is the disk full or failing? Nothing was published: the previous index is still served.`,
    { status: 500, expose: true },
  );
}

/** The HNSW file of a loaded index, for an incremental build to start from. */
export function hnswFileOf(index: KnowledgeIndex): string | undefined {
  return index.dir ? join(index.dir, FILES.hnsw) : undefined;
}

/** Whether something is published: true also for a damaged CURRENT, which must be reported, never built over. */
export function hasIndex(storeDir: string): boolean {
  return readCurrentPointer(storeDir).state !== "absent";
}

/**
 * Load the published index. Every file is checked against the checksums in the manifest and the counts must agree;
 * anything else is reported as corrupt with the command that rebuilds it.
 */
export function readIndex(storeDir: string, hnswSettings: Pick<HnswSettings, "efSearch">): KnowledgeIndex {
  // Messages name the index folder, not the server's paths: they reach HTTP clients through /health and 503s.
  const pointer = readCurrentPointer(storeDir);
  if (pointer.state === "absent") throw new IndexNotFoundError(storeDir);
  if (pointer.state === "invalid") throw new IndexCorruptError(`The CURRENT file of the index ${pointer.reason}; it was not written by this program.`);
  const { name } = pointer;
  const dir = join(storeDir, name);
  if (!existsSync(dir)) throw new IndexCorruptError(`CURRENT names the index folder ${name}, which does not exist.`);
  if (!existsSync(join(dir, FILES.manifest))) throw new IndexCorruptError(`The published index ${name} has no manifest.`);

  const manifest = parseManifest(
    () => readJson(dir, FILES.manifest),
    `The manifest of the index ${name} is unreadable (truncated, not JSON, or missing fields).`,
  );

  for (const [file, sum] of Object.entries(manifest.checksums)) {
    if (!Object.values(FILES).includes(file as never)) throw new IndexCorruptError(`The manifest lists an unexpected file ${file}.`);
    const path = join(dir, file);
    if (!existsSync(path)) throw new IndexCorruptError(`Index file ${file} is missing.`);
    if (fileChecksum(path) !== sum) throw new IndexCorruptError(`Index file ${file} does not match its checksum (truncated or modified).`);
  }
  for (const required of [FILES.chunks, FILES.lexical, FILES.hnsw]) {
    if (!manifest.checksums[required]) throw new IndexCorruptError(`The manifest has no checksum for ${required}.`);
  }

  try {
    const chunks = readJson(dir, FILES.chunks) as (ChunkRecord | null)[];
    const lexical = readJson(dir, FILES.lexical) as { words: string[]; bigrams: string[] };
    const split = (s: string | undefined): string[] => (s ? s.split(" ") : []);
    const tokens = chunks.map((_, i) => ({ words: split(lexical.words[i]), bigrams: split(lexical.bigrams[i]) }));
    const embedderState = manifest.checksums[FILES.embedder] ? readJson(dir, FILES.embedder) : undefined;
    const hnsw = HnswIndex.read(join(dir, FILES.hnsw), manifest.embeddings.dimensions, {
      M: manifest.hnsw.M,
      efConstruction: manifest.hnsw.efConstruction,
      efSearch: hnswSettings.efSearch,
    });
    const live = chunks.reduce((n, c) => n + (c ? 1 : 0), 0);
    if (live !== manifest.counts.chunks || hnsw.count !== chunks.length || lexical.words.length !== chunks.length) {
      throw new IndexCorruptError(
        `Index counts disagree (manifest ${manifest.counts.chunks}, docstore ${live} of ${chunks.length}, vectors ${hnsw.count}, lexical ${lexical.words.length}).`,
      );
    }
    return new KnowledgeIndex(dir, manifest, chunks, tokens, hnsw, embedderState);
  } catch (err) {
    if (err instanceof IndexCorruptError) throw err;
    throw new IndexCorruptError(`The index ${name} could not be read (${describeError(err)}).`, err);
  }
}
