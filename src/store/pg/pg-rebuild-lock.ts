import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";
import { RebuildBusyError } from "../../ingest/rebuild-lock.ts";
import { rethrowDbError } from "./pg-errors.ts";

const ADVISORY_KEY = 7_314_402; // any constant private to this program
/** A lease not renewed for this long belongs to a build that died (its process, or its connection). */
export const LEASE_STALE_SECONDS = 30;
const HEARTBEAT_MS = 5_000;

/**
 * One rebuild at a time across every server and CLI using the database, two ways at once:
 * - a session advisory lock on a connection held for the whole build: PostgreSQL releases it by itself when that
 *   process or connection dies, so a crashed build never blocks the next one;
 * - a lease row (holder, heartbeat) that says who is building, for the 409 message and for servers where advisory
 *   locks are not per client (PGlite behind pglite-socket is one backend session for all its connections). A lease
 *   whose heartbeat stopped LEASE_STALE_SECONDS ago is taken over.
 */
export async function acquirePgRebuildLock(pool: pg.Pool): Promise<() => Promise<void>> {
  const holder = `${hostname()} pid ${process.pid} #${randomBytes(3).toString("hex")}`;
  const client = await pool.connect().catch(rethrowDbError);
  let locked = false;
  try {
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [ADVISORY_KEY]);
    locked = rows[0]?.ok === true;
    if (!locked) throw new RebuildBusyError(`a build on another server: ${await currentHolder(client)}`);
    const taken = await client.query(
      `INSERT INTO kb_rebuild_lock (id, holder) VALUES (1, $1)
       ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = now(), heartbeat_at = now()
       WHERE kb_rebuild_lock.heartbeat_at < now() - make_interval(secs => $2)
       RETURNING holder`,
      [holder, LEASE_STALE_SECONDS],
    );
    if (taken.rowCount !== 1) throw new RebuildBusyError(`a build on another server: ${await currentHolder(client)}`);
  } catch (err) {
    if (locked) await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_KEY]).catch(() => {});
    client.release();
    rethrowDbError(err);
  }

  const heartbeat = setInterval(() => {
    client.query("UPDATE kb_rebuild_lock SET heartbeat_at = now() WHERE holder = $1", [holder]).catch(() => {
      // A missed beat is harmless; a build that cannot reach the database fails on its own writes.
    });
  }, HEARTBEAT_MS);
  heartbeat.unref();

  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    try {
      await client.query("DELETE FROM kb_rebuild_lock WHERE holder = $1", [holder]);
      await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_KEY]);
      client.release();
    } catch (err) {
      // The connection is gone, and the advisory lock with it; the lease goes stale. Do not reuse the client.
      client.release(err instanceof Error ? err : true);
    }
  };
}

async function currentHolder(client: pg.PoolClient): Promise<string> {
  const { rows } = await client.query<{ holder: string; seconds: number }>(
    "SELECT holder, extract(epoch FROM now() - acquired_at)::int AS seconds FROM kb_rebuild_lock WHERE id = 1",
  );
  const row = rows[0];
  return row ? `${row.holder}, for ${row.seconds} s` : "starting";
}
