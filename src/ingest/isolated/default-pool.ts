import { parserLimitsFromEnv } from "../../config/config.ts";
import { type ParserLimits, ParserPool } from "./parser-pool.ts";

/**
 * The process-wide parser pool behind `pdfLoader` and `htmlLoader`. Created on first use with PARSE_TIMEOUT_MS and
 * PARSE_MAX_MEMORY_MB from the environment (the CLI and the server load `.env` into it before anything is parsed),
 * unless a composition root configured other limits first. Its workers are unref'd when idle: nothing needs to close
 * it for the process to exit; tests close it so no worker outlives them.
 */
let pool: ParserPool | undefined;
let configured: ParserLimits | undefined;

export function defaultParserPool(): ParserPool {
  pool ??= new ParserPool({ ...(configured ?? parserLimitsFromEnv(process.env)), size: 1 });
  return pool;
}

/** Sets the limits of the default pool (e.g. from `AppConfig.parse`); takes effect for the next file parsed. */
export function configureDefaultParserPool(limits: ParserLimits): void {
  configured = { ...limits };
  const old = pool;
  pool = undefined;
  void old?.close();
}

/** Terminates the default pool's workers (a later parse starts a new pool). */
export async function closeDefaultParserPool(): Promise<void> {
  const old = pool;
  pool = undefined;
  await old?.close();
}
