import type { Server } from "node:http";
import type { HttpLimits } from "../src/config/config.ts";

/** Timeouts for the socket level, in one place; tests read them too. */
export const SOCKET_LIMITS = {
  /** Slow-loris: a client must finish sending its headers within this. */
  headersTimeoutMs: 15_000,
  /** The whole request (headers and body, e.g. a 50 MB upload on a slow link) must arrive within this. */
  requestTimeoutMs: 120_000,
  /** Idle keep-alive sockets are closed after this (shorter than common proxies' 60 s so we close first, cleanly). */
  keepAliveTimeoutMs: 5_000,
  /** A socket with no bytes either way for this long is destroyed. SSE streams send a heartbeat every 15 s, so live ones never hit it. */
  idleSocketMs: 60_000,
} as const;

/**
 * Applies connection caps and timeouts to the listening server: past MAX_CONNECTIONS new sockets are dropped at accept,
 * so a flood of idle or slow connections cannot exhaust file descriptors or memory while others wait.
 */
export function applyServerLimits(
  server: Server,
  limits: Pick<HttpLimits, "maxConnections">,
  socket: { [K in keyof typeof SOCKET_LIMITS]: number } = SOCKET_LIMITS,
): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = socket.headersTimeoutMs;
  server.requestTimeout = socket.requestTimeoutMs;
  server.keepAliveTimeout = socket.keepAliveTimeoutMs;
  server.setTimeout(socket.idleSocketMs, (s) => s.destroy());
}
