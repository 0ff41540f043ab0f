import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** `../shared` next to the repository (or SHARED_DIR): benchmarks and some tests use it when present. */
export function sharedDir(): string | undefined {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const dir = process.env.SHARED_DIR ? resolve(process.env.SHARED_DIR) : resolve(root, "../shared");
  return existsSync(dir) ? dir : undefined;
}
