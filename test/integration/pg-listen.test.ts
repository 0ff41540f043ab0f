import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type PgliteServer, startPgliteServer } from "../../scripts/pglite-server.ts";
import { loadConfig } from "../../src/config/config.ts";
import { PgIndexStore } from "../../src/store/pg/pg-index-store.ts";

/**
 * The replicas' LISTEN connection: it reports once it is listening (so a replica catches up on anything published
 * while it was away), survives the database going away, and reports again once it has reconnected. Delivery of a
 * NOTIFY from another connection cannot be shown here: PGlite is one backend session and hands a notification only to
 * the connection that sent it (docs/pglite-notes.md); the one-second poll covers replicas, as pg-replicas.test.ts shows.
 */
const dataDir = mkdtempSync(join(tmpdir(), "kb-pglisten-"));
let db: PgliteServer | undefined;

afterAll(async () => {
  await db?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(what: string, fn: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("pgvector store: the LISTEN connection", () => {
  it("reports when listening, keeps trying while the database is down, and reports again after reconnecting", async () => {
    db = await startPgliteServer({ dataDir });
    const config = loadConfig({ VECTOR_STORE: "pgvector", DATABASE_URL: db.url });
    if (config.vectorStore.kind !== "pgvector") throw new Error("expected pgvector");
    const store = await PgIndexStore.connect(config.vectorStore, config.hnsw);
    let notices = 0;
    const stop = store.watch(() => {
      notices++;
    });
    try {
      await until("the first notice", () => notices >= 1);
      const before = notices;
      const port = db.port;
      await db.stop();
      await new Promise((r) => setTimeout(r, 2_500));
      expect(notices).toBe(before);
      db = await startPgliteServer({ dataDir, port });
      await until("a notice after reconnecting", () => notices > before);
    } finally {
      stop();
      await store.close();
    }
  }, 60_000);
});
