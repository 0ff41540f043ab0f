import type pg from "pg";
import { AppError } from "../../errors/app-error.ts";
import { checkQueryDimensions, type Neighbor, type VectorSearch } from "../vector-search.ts";
import { rethrowDbError, sqlState } from "./pg-errors.ts";

/** pgvector's `vector` type indexes up to 2,000 dimensions; `halfvec` (16-bit floats) up to 4,000. */
export const MAX_VECTOR_DIMENSIONS = 2000;
export const MAX_HALFVEC_DIMENSIONS = 4000;

export function vectorType(dimensions: number): "vector" | "halfvec" {
  if (dimensions > MAX_HALFVEC_DIMENSIONS) {
    throw new AppError(
      "CONFIG_INVALID",
      `pgvector indexes at most ${MAX_HALFVEC_DIMENSIONS} dimensions; these embeddings have ${dimensions}. Set EMBEDDINGS_DIMENSIONS lower (if the model supports it) or use VECTOR_STORE=hnsw.`,
      { status: 400, expose: true },
    );
  }
  return dimensions > MAX_VECTOR_DIMENSIONS ? "halfvec" : "vector";
}

/** pgvector's text form; `toSql` of the pgvector package does the same for arrays. */
export function vectorLiteral(v: Float32Array | readonly number[]): string {
  return `[${Array.from(v).join(",")}]`;
}

/**
 * Nearest neighbours from one build's chunk table through its HNSW index (cosine distance, `<=>`), in a short
 * transaction whose settings end with it:
 * - `hnsw.ef_search` (pgvector's default is 40) must be at least the number of rows asked for, or fewer come back;
 * - `enable_seqscan = off`: on a table of a few thousand wide rows the planner picks a sequential scan over every
 *   vector instead of the index (measured with 6k chunks on PGlite: 33 ms a query instead of a few).
 */
export class PgVectorSearch implements VectorSearch {
  constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
    readonly dimensions: number,
    private readonly efSearch: number,
  ) {}

  async search(vector: Float32Array | number[], k: number, signal?: AbortSignal): Promise<Neighbor[]> {
    checkQueryDimensions(vector.length, this.dimensions);
    if (k <= 0) return [];
    signal?.throwIfAborted();
    const type = vectorType(this.dimensions);
    const ef = Math.min(1000, Math.max(this.efSearch, k));
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      await client.query(`BEGIN; SET LOCAL hnsw.ef_search = ${ef}; SET LOCAL enable_seqscan = off`);
      const { rows } = await client.query<{ label: number; distance: number }>({
        text: `SELECT label, embedding <=> $1::${type} AS distance FROM ${this.table} ORDER BY embedding <=> $1::${type} LIMIT $2`,
        values: [vectorLiteral(vector), k],
      });
      await client.query("COMMIT");
      client.release();
      client = undefined;
      return rows.map((r) => ({ label: r.label, similarity: 1 - Number(r.distance) }));
    } catch (err) {
      // A failed connection is not handed to the next query.
      client?.release(err instanceof Error ? err : true);
      // 42P01: this build's table was dropped — two newer builds were published before this server's next poll.
      if (sqlState(err) === "42P01") {
        throw new AppError("DB_UNAVAILABLE", "The index was replaced while this query ran. Try again in a second.", { status: 503, expose: true, cause: err });
      }
      rethrowDbError(err);
    }
  }
}
