import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.ts";
import { ConfigError } from "../../../src/errors/app-error.ts";

/** VECTOR_STORE, DATABASE_URL and the PG_* settings; DATABASE_URL usually carries a password, never echoed. */
const PASSWORD = "Sup3r-s3cret_pw";
const PG_URL = `postgres://kb:${PASSWORD}@db.internal:5432/kb`;

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

/** Everything a ConfigError can show: message, issues, String(), JSON and the full inspection. */
function everything(err: ConfigError): string {
  return [err.message, ...err.issues, String(err), JSON.stringify(err), inspect(err, { depth: 5 })].join("\n");
}

describe("vector store configuration", () => {
  it("defaults to the hnswlib file store; DATABASE_URL alone does not switch stores", () => {
    expect(loadConfig({}).vectorStore).toEqual({ kind: "hnsw" });
    expect(loadConfig({ VECTOR_STORE: "hnsw" }).vectorStore).toEqual({ kind: "hnsw" });
    expect(loadConfig({ DATABASE_URL: PG_URL }).vectorStore).toEqual({ kind: "hnsw" });
    // An empty value is unset.
    expect(loadConfig({ VECTOR_STORE: "hnsw", DATABASE_URL: "  " }).vectorStore).toEqual({ kind: "hnsw" });
  });

  it("VECTOR_STORE=pgvector with a postgres:// or postgresql:// URL, with the PG_* defaults and overrides", () => {
    expect(loadConfig({ VECTOR_STORE: "pgvector", DATABASE_URL: PG_URL }).vectorStore).toEqual({
      kind: "pgvector",
      url: PG_URL,
      poolMax: 10,
      statementTimeoutMs: 10_000,
      efConstruction: 200,
      efSearch: 128,
      buildMemoryMb: 256,
    });
    const other = loadConfig({
      VECTOR_STORE: "pgvector",
      DATABASE_URL: ` postgresql://kb@localhost/kb?sslmode=require `,
      PG_POOL_MAX: "4",
      PG_STATEMENT_TIMEOUT_MS: "2500",
      PGVECTOR_EF_CONSTRUCTION: "128",
      PGVECTOR_EF_SEARCH: "64",
      PGVECTOR_BUILD_MEMORY_MB: "1024",
    });
    expect(other.vectorStore).toEqual({
      kind: "pgvector",
      url: "postgresql://kb@localhost/kb?sslmode=require",
      poolMax: 4,
      statementTimeoutMs: 2500,
      efConstruction: 128,
      efSearch: 64,
      buildMemoryMb: 1024,
    });
    expect(loadConfig({ VECTOR_STORE: "pgvector", DATABASE_URL: "POSTGRES://kb@h/kb" }).vectorStore.kind).toBe("pgvector");
  });

  it("VECTOR_STORE=pgvector without DATABASE_URL: a ConfigError naming DATABASE_URL and how to fix it", () => {
    for (const url of [undefined, "", "   "]) {
      const err = configError({ VECTOR_STORE: "pgvector", DATABASE_URL: url });
      expect(err.code).toBe("CONFIG_INVALID");
      expect(err.issues).toHaveLength(1);
      expect(err.issues[0]).toMatch(/^DATABASE_URL: required for VECTOR_STORE=pgvector/);
      expect(err.issues[0]).toMatch(/VECTOR_STORE=hnsw/);
      expect(err.message).toContain("DATABASE_URL");
    }
  });

  it("refuses a DATABASE_URL that is not postgres:// or postgresql://, whichever store is chosen", () => {
    for (const url of [
      `mysql://kb:${PASSWORD}@db.internal/kb`,
      `http://kb:${PASSWORD}@db.internal/kb`,
      `postgres:kb:${PASSWORD}@db.internal/kb`,
      `postgres://kb:${PASSWORD} @db.internal/kb`,
      "db.internal:5432",
    ]) {
      for (const store of ["pgvector", "hnsw"]) {
        const err = configError({ VECTOR_STORE: store, DATABASE_URL: url });
        expect(
          err.issues.some((i) => /^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/.test(i)),
          url,
        ).toBe(true);
        expect(everything(err)).not.toContain(PASSWORD);
        expect(everything(err)).not.toContain("db.internal");
      }
    }
  });

  it("refuses an unknown VECTOR_STORE, naming the variable and the choices", () => {
    for (const value of ["pg", "PGVECTOR", "faiss", "postgres"]) {
      const err = configError({ VECTOR_STORE: value, DATABASE_URL: PG_URL });
      expect(err.issues).toHaveLength(1);
      expect(err.issues[0]).toMatch(/^VECTOR_STORE: /);
      expect(err.issues[0]).toContain("hnsw");
      expect(err.issues[0]).toContain("pgvector");
      expect(everything(err)).not.toContain(PASSWORD);
    }
  });

  it("refuses PG_* values out of range, each named", () => {
    const err = configError({
      VECTOR_STORE: "pgvector",
      DATABASE_URL: PG_URL,
      PG_POOL_MAX: "1",
      PG_STATEMENT_TIMEOUT_MS: "abc",
      PGVECTOR_EF_CONSTRUCTION: "5000",
    });
    const issues = err.issues.join("\n");
    expect(issues).toMatch(/^PG_POOL_MAX: /m);
    expect(issues).toMatch(/^PG_STATEMENT_TIMEOUT_MS: /m);
    expect(issues).toMatch(/^PGVECTOR_EF_CONSTRUCTION: /m);
    expect(everything(err)).not.toContain(PASSWORD);
  });

  it("never shows the password of DATABASE_URL in any ConfigError, whatever else is wrong", () => {
    const envs: Record<string, string>[] = [
      { VECTOR_STORE: "pgvector", DATABASE_URL: PG_URL, PG_POOL_MAX: "0" },
      { VECTOR_STORE: "nope", DATABASE_URL: PG_URL },
      { VECTOR_STORE: "pgvector", DATABASE_URL: PG_URL, CHUNK_SIZE: "200", CHUNK_OVERLAP: "300" },
      { VECTOR_STORE: "pgvector", DATABASE_URL: PG_URL, LLM_PROVIDER: "openai" },
      { VECTOR_STORE: "pgvector", DATABASE_URL: PG_URL, PORT: "x", EMBEDDINGS_PROVIDER: "nope" },
      { VECTOR_STORE: "pgvector", DATABASE_URL: `redis://:${PASSWORD}@cache:6379`, PG_POOL_MAX: "x" },
      { VECTOR_STORE: "pgvector", DATABASE_URL: `${PG_URL}?password=${PASSWORD}`, PG_STATEMENT_TIMEOUT_MS: "1" },
    ];
    for (const env of envs) {
      const err = configError(env);
      expect(err.issues.length, JSON.stringify(Object.keys(env))).toBeGreaterThan(0);
      const text = everything(err);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(env.DATABASE_URL);
    }
  });
});
