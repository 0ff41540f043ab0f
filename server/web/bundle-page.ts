import { createHash } from "node:crypto";
import { join } from "node:path";
import { build } from "esbuild";

export const PUBLIC_DIR = join(import.meta.dirname, "..", "public");
export const PAGE_ENTRY = join(PUBLIC_DIR, "src", "main.ts");

export interface PageBundle {
  code: string;
  etag: string;
}

/**
 * The chat page's script: its TypeScript bundled by esbuild (local, offline, ~100 ms) on first use and kept in memory.
 * A failed build is not cached, so a fixed source is picked up by the next request without a restart.
 */
export function createPageBundler(entry = PAGE_ENTRY): () => Promise<PageBundle> {
  let pending: Promise<PageBundle> | undefined;
  return () => {
    pending ??= bundle(entry).catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

async function bundle(entry: string): Promise<PageBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "silent",
    charset: "utf8",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error("esbuild produced no output");
  const code = file.text;
  return { code, etag: `"${createHash("sha256").update(code).digest("base64url").slice(0, 27)}"` };
}
