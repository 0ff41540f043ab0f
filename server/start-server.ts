import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../src/config/config.ts";
import { AppError, ConfigError, describeError } from "../src/errors/app-error.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { createApp } from "./create-app.ts";
import { createLogger } from "./logger.ts";

/**
 * Composition root for HTTP: read configuration once, open (or first build) the index, listen, shut down cleanly.
 */
async function main(): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const kb = await KnowledgeBase.open(config);

  if (!kb.hasIndexOnDisk) {
    logger.info("no index yet: building it from the documents", { docsDir: config.docsDir, storeDir: config.storeDir });
    const summary = await kb.ingest();
    logger.info("index built", { files: summary.files, chunks: summary.chunks, seconds: Number(summary.seconds.toFixed(2)), failed: summary.failed });
  } else if (!kb.tryLoad()) {
    logger.warn("serving in degraded mode", { reason: kb.status().message });
  }

  const app = createApp({ config, kb, logger, llm: config.llm ? { provider: config.llm.provider, model: config.llm.model } : null });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { address, port } = server.address() as AddressInfo;
  const status = kb.status();
  logger.info("listening", { url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`, documents: status.index.documents, chunks: status.index.chunks, status: status.status });

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.info("shutting down", { signal });
    // In-flight requests finish; idle keep-alive sockets are closed so the process can exit.
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof AppError) console.error(`Error [${err.code}]: ${err.message}`);
  else if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") console.error(`Error: the port is already in use. Set PORT to a free port.`);
  else console.error(`Could not start: ${describeError(err)}`);
  process.exit(1);
});
