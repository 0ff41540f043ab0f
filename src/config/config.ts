import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors/app-error.ts";
import { isPresetName, PRESET_NAMES, PROVIDER_PRESETS, type PresetName, type ProviderPreset } from "../providers/presets.ts";

/**
 * The one place that reads the environment. Everything else receives a typed `AppConfig`.
 * All problems are reported together, each naming its variable.
 */
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
const url = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()))
  .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/i.test(v), "must be an http(s) URL");

const EnvSchema = z.object({
  DOCS_DIR: z.string().min(1).default("./docs-corpus"),
  VECTORSTORE_DIR: z.string().min(1).default("./vectorstore"),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  LLM_PROVIDER: z.enum(["none", ...PRESET_NAMES] as [string, ...string[]]).default("none"),
  LLM_MODEL: optionalString,
  LLM_API_KEY: optionalString,
  LLM_BASE_URL: url,
  LLM_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  LLM_MAX_RETRIES: int(0, 10).default(2),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.2),
  EMBEDDINGS_PROVIDER: z.enum(["local", ...PRESET_NAMES] as [string, ...string[]]).default("local"),
  EMBEDDINGS_MODEL: optionalString,
  EMBEDDINGS_API_KEY: optionalString,
  EMBEDDINGS_BASE_URL: url,
  EMBEDDINGS_DIMENSIONS: int(8, 8192).optional(),
  EMBEDDINGS_BATCH_SIZE: int(1, 2048).default(64),
  EMBEDDINGS_TIMEOUT_MS: int(100, 600_000).default(30_000),
  EMBEDDINGS_MAX_RETRIES: int(0, 10).default(2),
  CHUNK_SIZE: int(100, 8000).default(400),
  CHUNK_OVERLAP: int(0, 4000).default(80),
  HNSW_M: int(4, 128).default(16),
  HNSW_EF_CONSTRUCTION: int(10, 2000).default(200),
  // 768: the smallest width with recall@10 ≥ 0.98 at 100k chunks (0.984, p99 5 ms; `npm run bench:scale`). Below a
  // few thousand chunks it makes the search exact at no noticeable cost.
  HNSW_EF_SEARCH: int(10, 5000).default(768),
  SEARCH_TOP_K: int(1, 100).default(5),
  ADMIN_TOKEN: optionalString,
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  WATCH_DOCS: bool.default(false),
  WEB_CONCURRENCY: int(1, 64).default(1),
  RATE_LIMIT_PER_MIN: int(0, 1_000_000).default(60),
  TRUST_PROXY: z
    .string()
    .trim()
    .default("false")
    .refine((v) => /^(true|false|loopback|\d{1,2}|[0-9a-f.:/, ]+)$/i.test(v), "must be false, true, loopback, a hop count, or IP/CIDR list"),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((o) => o.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    )
    .refine((list) => list.every((o) => /^https?:\/\/[^\s/]+$/i.test(o)), "must be a comma-separated list of origins like https://app.example.com"),
  MAX_CONNECTIONS: int(1, 100_000).default(1000),
  MAX_CONCURRENT_ANSWERS: int(1, 100_000).default(200),
  PARSE_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  PARSE_MAX_MEMORY_MB: int(64, 65_536).default(512),
  VECTOR_STORE: z.enum(["hnsw", "pgvector"]).default("hnsw"),
  // Never echoed in messages: it usually carries a password.
  DATABASE_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()))
    .refine((v) => v === undefined || /^postgres(ql)?:\/\/\S+$/i.test(v), "must be a postgres:// or postgresql:// URL"),
  PG_POOL_MAX: int(2, 500).default(10),
  PG_STATEMENT_TIMEOUT_MS: int(100, 3_600_000).default(10_000),
  PGVECTOR_EF_CONSTRUCTION: int(8, 1000).default(200),
  PGVECTOR_EF_SEARCH: int(10, 1000).default(128),
  PGVECTOR_BUILD_MEMORY_MB: int(16, 65_536).default(256),
});

export interface ProviderConfig {
  provider: PresetName;
  model: string;
  apiKey: string | undefined;
  baseURL: string;
}

export interface LlmConfig extends ProviderConfig {
  timeoutMs: number;
  maxRetries: number;
  temperature: number;
}

export interface AppConfig {
  docsDir: string;
  storeDir: string;
  port: number;
  host: string;
  llm: LlmConfig | null;
  embeddings: (ProviderConfig & { batchSize: number; timeoutMs: number; maxRetries: number; dimensions?: number }) | { provider: "local"; dimensions: number };
  chunker: { chunkSize: number; chunkOverlap: number };
  hnsw: { M: number; efConstruction: number; efSearch: number };
  topK: number;
  adminToken: string | undefined;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  watchDocs: boolean;
  /** HTTP worker processes (Node cluster); 1 serves from this process. */
  workers: number;
  http: HttpLimits;
  /** Limits of the worker threads that parse PDF and HTML files: one file's time, one worker's V8 heap. */
  parse: { timeoutMs: number; maxMemoryMb: number };
  /** Where indexes are published: files under `storeDir` (hnswlib) or PostgreSQL with pgvector. */
  vectorStore: { kind: "hnsw" } | PgStoreConfig;
}

export interface PgStoreConfig {
  kind: "pgvector";
  url: string;
  /** Connections per process (at least 2: a build holds one for its lock while it writes through others). */
  poolMax: number;
  /** Upper bound for one query; a database that stops answering fails the request with 503 instead of hanging it. */
  statementTimeoutMs: number;
  /** pgvector HNSW `ef_construction` (its `m` is HNSW_M). */
  efConstruction: number;
  /** pgvector `hnsw.ef_search`: its own setting, since a query's cost grows with it much faster than in process. */
  efSearch: number;
  /** `maintenance_work_mem` of a build's session: an HNSW graph that does not fit is built on disk, far slower. */
  buildMemoryMb: number;
}

/** Per-process limits for facing the internet (behind a reverse proxy). */
export interface HttpLimits {
  /** Requests per minute per client on the answer endpoints; 0 disables the limit. */
  rateLimitPerMin: number;
  /** Express `trust proxy`: false, true, "loopback", a hop count or addresses — decides what req.ip is. */
  trustProxy: boolean | number | string;
  /** Origins granted CORS; empty means no CORS headers at all. */
  corsOrigins: string[];
  /** Open sockets per process; more are refused at accept. */
  maxConnections: number;
  /** Answers (streamed or not) in progress per process; more get 503 + Retry-After instead of queueing without bound. */
  maxConcurrentAnswers: number;
}

function parseTrustProxy(v: string): boolean | number | string {
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

export const LOCAL_EMBEDDING_DIMENSIONS = 1024;

function resolveProvider(
  kind: "LLM" | "EMBEDDINGS",
  name: PresetName,
  env: Record<string, string | undefined>,
  model: string | undefined,
  apiKey: string | undefined,
  baseURL: string | undefined,
  issues: string[],
): ProviderConfig {
  const preset = PROVIDER_PRESETS[name];
  const key = apiKey ?? ("keyEnv" in preset ? env[preset.keyEnv]?.trim() || undefined : undefined);
  if (preset.requiresKey && !key) {
    const alt = "keyEnv" in preset ? ` (or ${preset.keyEnv})` : "";
    issues.push(
      `${kind}_API_KEY: required for ${kind}_PROVIDER=${name}; set ${kind}_API_KEY${alt}, or use ${kind === "LLM" ? "LLM_PROVIDER=none for offline answers" : "EMBEDDINGS_PROVIDER=local"}`,
    );
  }
  return {
    provider: name,
    model: model ?? (kind === "LLM" ? preset.chatModel : preset.embeddingModel),
    apiKey: key,
    baseURL: (baseURL ?? preset.baseURL).replace(/\/+$/, ""),
  };
}

export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: { docsDir?: string; storeDir?: string } = {}): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(environment)"}: ${i.message}`);
    // Report missing keys too, so one run shows everything to fix.
    for (const kind of ["LLM", "EMBEDDINGS"] as const) {
      const name = env[`${kind}_PROVIDER`]?.trim();
      if (name && isPresetName(name)) resolveProvider(kind, name, env, undefined, env[`${kind}_API_KEY`]?.trim() || undefined, undefined, issues);
    }
    throw new ConfigError(issues);
  }
  const e = parsed.data;
  const issues: string[] = [];
  if (e.CHUNK_OVERLAP >= e.CHUNK_SIZE) issues.push("CHUNK_OVERLAP: must be smaller than CHUNK_SIZE");

  const llm: LlmConfig | null =
    e.LLM_PROVIDER === "none"
      ? null
      : {
          ...resolveProvider("LLM", e.LLM_PROVIDER as PresetName, env, e.LLM_MODEL, e.LLM_API_KEY, e.LLM_BASE_URL, issues),
          timeoutMs: e.LLM_TIMEOUT_MS,
          maxRetries: e.LLM_MAX_RETRIES,
          temperature: e.LLM_TEMPERATURE,
        };

  const embeddingPreset = e.EMBEDDINGS_PROVIDER === "local" ? undefined : (PROVIDER_PRESETS[e.EMBEDDINGS_PROVIDER as PresetName] as ProviderPreset);
  if (embeddingPreset?.embeddings === false) {
    issues.push(
      `EMBEDDINGS_PROVIDER: ${embeddingPreset.name} has no embeddings endpoint; use local, or another provider (or openai-compatible with EMBEDDINGS_BASE_URL)`,
    );
  }
  const maxBatch = embeddingPreset?.maxEmbeddingBatch;
  const embeddings: AppConfig["embeddings"] =
    e.EMBEDDINGS_PROVIDER === "local"
      ? { provider: "local", dimensions: e.EMBEDDINGS_DIMENSIONS ?? LOCAL_EMBEDDING_DIMENSIONS }
      : {
          ...resolveProvider("EMBEDDINGS", e.EMBEDDINGS_PROVIDER as PresetName, env, e.EMBEDDINGS_MODEL, e.EMBEDDINGS_API_KEY, e.EMBEDDINGS_BASE_URL, issues),
          // A provider's own request limit wins over a larger configured batch.
          batchSize: maxBatch ? Math.min(maxBatch, e.EMBEDDINGS_BATCH_SIZE) : e.EMBEDDINGS_BATCH_SIZE,
          timeoutMs: e.EMBEDDINGS_TIMEOUT_MS,
          maxRetries: e.EMBEDDINGS_MAX_RETRIES,
          ...(e.EMBEDDINGS_DIMENSIONS === undefined ? {} : { dimensions: e.EMBEDDINGS_DIMENSIONS }),
        };

  if (e.VECTOR_STORE === "pgvector" && !e.DATABASE_URL) {
    issues.push("DATABASE_URL: required for VECTOR_STORE=pgvector (postgres://user:password@host:5432/db); or use VECTOR_STORE=hnsw");
  }

  if (issues.length) throw new ConfigError(issues);
  return {
    docsDir: resolve(overrides.docsDir ?? e.DOCS_DIR),
    storeDir: resolve(overrides.storeDir ?? e.VECTORSTORE_DIR),
    port: e.PORT,
    host: e.HOST,
    llm,
    embeddings,
    chunker: { chunkSize: e.CHUNK_SIZE, chunkOverlap: e.CHUNK_OVERLAP },
    hnsw: { M: e.HNSW_M, efConstruction: e.HNSW_EF_CONSTRUCTION, efSearch: e.HNSW_EF_SEARCH },
    topK: e.SEARCH_TOP_K,
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    watchDocs: e.WATCH_DOCS,
    workers: e.WEB_CONCURRENCY,
    http: {
      rateLimitPerMin: e.RATE_LIMIT_PER_MIN,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      corsOrigins: e.CORS_ORIGINS,
      maxConnections: e.MAX_CONNECTIONS,
      maxConcurrentAnswers: e.MAX_CONCURRENT_ANSWERS,
    },
    parse: { timeoutMs: e.PARSE_TIMEOUT_MS, maxMemoryMb: e.PARSE_MAX_MEMORY_MB },
    vectorStore:
      e.VECTOR_STORE === "pgvector" && e.DATABASE_URL
        ? {
            kind: "pgvector",
            url: e.DATABASE_URL,
            poolMax: e.PG_POOL_MAX,
            statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
            efConstruction: e.PGVECTOR_EF_CONSTRUCTION,
            efSearch: e.PGVECTOR_EF_SEARCH,
            buildMemoryMb: e.PGVECTOR_BUILD_MEMORY_MB,
          }
        : { kind: "hnsw" },
  };
}

/**
 * The parser limits alone (PARSE_TIMEOUT_MS, PARSE_MAX_MEMORY_MB), for the process-wide parser pool that the default
 * loaders start on first use; validated by the same schema as `loadConfig`, which reports bad values at startup.
 */
export function parserLimitsFromEnv(env: Record<string, string | undefined> = process.env): AppConfig["parse"] {
  const parsed = EnvSchema.pick({ PARSE_TIMEOUT_MS: true, PARSE_MAX_MEMORY_MB: true }).safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  return { timeoutMs: parsed.data.PARSE_TIMEOUT_MS, maxMemoryMb: parsed.data.PARSE_MAX_MEMORY_MB };
}
