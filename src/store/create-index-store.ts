import type { AppConfig } from "../config/config.ts";
import { HnswFileStore } from "./hnsw-file-store.ts";
import type { IndexStore } from "./index-store.ts";

/** The store VECTOR_STORE names. The PostgreSQL one is loaded only when chosen: one machine never touches `pg`. */
export async function createIndexStore(config: AppConfig): Promise<IndexStore> {
  if (config.vectorStore.kind === "pgvector") {
    const { PgIndexStore } = await import("./pg/pg-index-store.ts");
    return PgIndexStore.connect(config.vectorStore, config.hnsw);
  }
  return new HnswFileStore(config.storeDir, config.hnsw);
}
