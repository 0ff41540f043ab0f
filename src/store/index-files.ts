import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../text/hash.ts";

/**
 * On-disk layout of `VECTORSTORE_DIR`:
 *   CURRENT             one line: the name of the published index folder
 *   index-<buildId>/    manifest.json, chunks.json, lexical.json, hnsw.bin, embedder.json
 *   .tmp-<buildId>/     a build in progress (or the leftover of a killed one: ignored, then removed)
 * A build writes its own temp folder, renames it into place and then swaps CURRENT with an atomic rename, so a reader
 * sees either the old index or the new one, never a mix, and a crash at any point leaves the old one published.
 */
export const CURRENT_FILE = "CURRENT";
export const INDEX_PREFIX = "index-";
export const TMP_PREFIX = ".tmp-";

export function newBuildId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14);
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/**
 * What CURRENT says: nothing published yet (no file), the name of an index folder, or something this program never
 * writes (a path such as `../../etc`, garbage, a folder in its place). Only a name this program writes is followed:
 * never a path that leaves the store. "invalid" is a damaged store, not an empty one: it must not be built over.
 */
export type CurrentPointer = { state: "absent" } | { state: "ok"; name: string } | { state: "invalid"; reason: string };

export function readCurrentPointer(storeDir: string): CurrentPointer {
  const file = join(storeDir, CURRENT_FILE);
  if (!existsSync(file)) return { state: "absent" };
  let name: string;
  try {
    name = readFileSync(file, "utf8").trim();
  } catch (err) {
    return { state: "invalid", reason: `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  }
  return /^index-[0-9a-z-]+$/.test(name) ? { state: "ok", name } : { state: "invalid", reason: "does not name an index folder" };
}

export function readCurrentName(storeDir: string): string | undefined {
  const pointer = readCurrentPointer(storeDir);
  return pointer.state === "ok" ? pointer.name : undefined;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  }
}

/** Flush a written file's data to disk. */
export function syncFile(file: string): void {
  const fd = openSync(file, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write a file and flush it to disk; returns its sha256. */
export function writeDurable(file: string, data: string | Uint8Array): string {
  writeFileSync(file, data);
  syncFile(file);
  return sha256(data);
}

export function fileChecksum(file: string): string {
  return sha256(readFileSync(file));
}

export function createTempIndexDir(storeDir: string, buildId: string): string {
  mkdirSync(storeDir, { recursive: true });
  const dir = join(storeDir, `${TMP_PREFIX}${buildId}`);
  mkdirSync(dir);
  return dir;
}

/** Move a finished temp folder into place and point CURRENT at it. */
export function publishIndexDir(storeDir: string, tempDir: string, buildId: string): string {
  const name = `${INDEX_PREFIX}${buildId}`;
  fsyncDir(tempDir);
  renameSync(tempDir, join(storeDir, name));
  const pointerTmp = join(storeDir, `${CURRENT_FILE}.${buildId}.tmp`);
  writeDurable(pointerTmp, `${name}\n`);
  renameSync(pointerTmp, join(storeDir, CURRENT_FILE));
  fsyncDir(storeDir);
  return name;
}

/**
 * Undo a build that failed: its temp folder, its pointer temp file, and its index folder unless CURRENT already names
 * it. Touches nothing else: the published index, the one kept for readers still loading it, other files.
 */
export function discardBuild(storeDir: string, buildId: string): void {
  const name = `${INDEX_PREFIX}${buildId}`;
  rmSync(join(storeDir, `${TMP_PREFIX}${buildId}`), { recursive: true, force: true });
  rmSync(join(storeDir, `${CURRENT_FILE}.${buildId}.tmp`), { force: true });
  if (readCurrentName(storeDir) !== name) rmSync(join(storeDir, name), { recursive: true, force: true });
}

/**
 * Remove every index folder except the published one (and `keep`), temp folders of dead builds and stray pointer
 * temp files. Readers that loaded an older index hold it in memory, so deleting its files does not disturb them.
 */
export function removeStaleIndexDirs(storeDir: string, keep: readonly string[] = []): void {
  if (!existsSync(storeDir)) return;
  const current = readCurrentName(storeDir);
  for (const entry of readdirSync(storeDir)) {
    const stale =
      (entry.startsWith(INDEX_PREFIX) && entry !== current && !keep.includes(entry)) ||
      (entry.startsWith(TMP_PREFIX) && !keep.includes(entry)) ||
      (entry.startsWith(`${CURRENT_FILE}.`) && entry.endsWith(".tmp"));
    if (stale) rmSync(join(storeDir, entry), { recursive: true, force: true });
  }
}

/** Temp folders and pointer files of builds that died. Call only while holding the rebuild lock. */
export function removeBuildLeftovers(storeDir: string): void {
  if (!existsSync(storeDir)) return;
  for (const entry of readdirSync(storeDir)) {
    if (entry.startsWith(TMP_PREFIX) || (entry.startsWith(`${CURRENT_FILE}.`) && entry.endsWith(".tmp"))) {
      rmSync(join(storeDir, entry), { recursive: true, force: true });
    }
  }
}
