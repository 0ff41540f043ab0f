import { z } from "zod";
import { IndexCorruptError, IndexMismatchError } from "../errors/app-error.ts";

export const SCHEMA_VERSION = 1;
export const TOKENIZER_VERSION = 2;

const FileEntry = z.object({
  docId: z.string(),
  hash: z.string(),
  bytes: z.number(),
  title: z.string(),
  format: z.string(),
  chunks: z.number(),
  updatedAt: z.string(),
});

export const ManifestSchema = z.object({
  schemaVersion: z.number(),
  buildId: z.string(),
  builtAt: z.string(),
  embeddings: z.object({ id: z.string(), provider: z.string(), model: z.string(), dimensions: z.number() }),
  chunker: z.object({ chunkSize: z.number(), chunkOverlap: z.number(), version: z.number() }),
  tokenizer: z.object({ version: z.number() }),
  hnsw: z.object({ M: z.number(), efConstruction: z.number(), space: z.literal("cosine") }),
  counts: z.object({ documents: z.number(), chunks: z.number() }),
  files: z.record(z.string(), FileEntry),
  /** sha256 of every other file in the index folder: a file the builder did not write is never loaded. */
  checksums: z.record(z.string(), z.string()),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = z.infer<typeof FileEntry>;

export interface EmbedderExpectation {
  provider: string;
  model: string;
  /** Unknown until the first call for API models without configured dimensions. */
  dimensions?: number;
}

/**
 * Vectors from a different model (or a different dimension) are not comparable with the index: querying would return
 * silently wrong results, so this is refused with the command that fixes it.
 */
export function checkEmbedder(manifest: Manifest, expected: EmbedderExpectation): void {
  const built = manifest.embeddings;
  const mismatches: string[] = [];
  if (built.provider !== expected.provider) mismatches.push(`provider ${built.provider} → ${expected.provider}`);
  if (built.model !== expected.model) mismatches.push(`model ${built.model} → ${expected.model}`);
  if (expected.dimensions !== undefined && built.dimensions !== expected.dimensions) {
    mismatches.push(`dimensions ${built.dimensions} → ${expected.dimensions}`);
  }
  if (mismatches.length) {
    throw new IndexMismatchError(`The index was built with different embeddings (${mismatches.join(", ")}). Rebuild it with: npm run ingest -- --full`);
  }
}

/**
 * A stored manifest, validated: written by another version of this program → IndexMismatchError (rebuild with
 * --full); unreadable or incomplete → IndexCorruptError saying `unreadable`. `read` may throw (a file that is not JSON).
 */
export function parseManifest(read: () => unknown, unreadable: string): Manifest {
  let manifest: Manifest;
  try {
    const raw = read() as Partial<Manifest> | null;
    // The version check first: an older layout would otherwise be reported as corrupt rather than as outdated.
    if (raw && typeof raw === "object" && raw.schemaVersion !== undefined && raw.tokenizer) checkSchema(raw as Manifest);
    manifest = ManifestSchema.parse(raw);
  } catch (err) {
    if (err instanceof IndexMismatchError) throw err;
    throw new IndexCorruptError(unreadable, err);
  }
  checkSchema(manifest);
  return manifest;
}

export function checkSchema(manifest: Pick<Manifest, "schemaVersion" | "tokenizer">): void {
  if (manifest.schemaVersion !== SCHEMA_VERSION || manifest.tokenizer.version !== TOKENIZER_VERSION) {
    throw new IndexMismatchError(
      `The index was written by another version of this program (schema ${manifest.schemaVersion}, tokenizer ${manifest.tokenizer.version}; this one reads schema ${SCHEMA_VERSION}, tokenizer ${TOKENIZER_VERSION}). Rebuild it with: npm run ingest -- --full`,
    );
  }
}

/** Chunker settings that differ from the configured ones: the index still answers, but a rebuild is due. */
export function chunkerDrift(manifest: Manifest, expected: { chunkSize: number; chunkOverlap: number; version: number }): string | undefined {
  const c = manifest.chunker;
  if (c.chunkSize === expected.chunkSize && c.chunkOverlap === expected.chunkOverlap && c.version === expected.version) return undefined;
  return `The index was built with chunk size ${c.chunkSize}/overlap ${c.chunkOverlap} (chunker v${c.version}); the configuration says ${expected.chunkSize}/${expected.chunkOverlap} (v${expected.version}). Rebuild with: npm run ingest -- --full`;
}
