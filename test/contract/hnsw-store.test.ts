import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE } from "../../src/ingest/rebuild-lock.ts";
import { INDEX_PREFIX, TMP_PREFIX } from "../../src/store/index-files.ts";
import { defineIndexStoreContract } from "./index-store-contract.ts";

/** The default store: hnswlib files under VECTORSTORE_DIR (a new temp folder per test). */
defineIndexStoreContract("hnsw", {
  env: () => ({ VECTOR_STORE: "hnsw" }),
  async reset() {
    // Every test gets a new temp folder: nothing to clear.
  },
  async leftovers(storeDir) {
    if (!existsSync(storeDir)) return [];
    const entries = readdirSync(storeDir);
    const versions = entries.filter((e) => e.startsWith(INDEX_PREFIX));
    return [
      ...entries.filter((e) => e.startsWith(TMP_PREFIX) || /^CURRENT\..*\.tmp$/.test(e)),
      // The published version and the one it replaced are kept; anything older is litter.
      ...(versions.length > 2 ? [`${versions.length} index versions kept`] : []),
    ];
  },
  async plantLeftovers(storeDir) {
    // A build killed while writing its folder, and one killed between writing the new CURRENT and renaming it.
    const dir = join(storeDir, `${TMP_PREFIX}20260101000000-dead00`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "chunks.json"), "[");
    writeFileSync(join(storeDir, "CURRENT.20260101000000-dead00.tmp"), "index-20260101000000-dead00\n");
  },
  async lockResidue(storeDir) {
    return existsSync(join(storeDir, LOCK_FILE)) ? [LOCK_FILE] : [];
  },
});
