import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { LoaderRegistry } from "./loaders/registry.ts";

export interface ScannedFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the docs folder, `/`-separated: the document's identity. */
  source: string;
  bytes: number;
}

export interface ScanResult {
  files: ScannedFile[];
  /** Files with an extension no loader handles (relative paths). */
  skipped: string[];
}

/** Files a human did not put there on purpose: hidden files, editor backups, OS litter. */
function ignored(name: string): boolean {
  return name.startsWith(".") || name.endsWith("~") || name === "node_modules" || name === "Thumbs.db";
}

/** Recursively lists ingestible files, sorted by source path so builds are deterministic. */
export function scanDocs(docsDir: string, loaders: LoaderRegistry): ScanResult {
  const files: ScannedFile[] = [];
  const skipped: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (ignored(entry.name)) continue;
      const full = join(dir, entry.name);
      // Symlinks are not followed: a link could point outside the docs folder or loop forever.
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const source = relative(docsDir, full).split(sep).join("/");
        if (loaders.forPath(full)) files.push({ path: full, source, bytes: statSync(full).size });
        else skipped.push(source);
      }
    }
  };
  walk(docsDir);
  files.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  skipped.sort();
  return { files, skipped };
}
