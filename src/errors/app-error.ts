/**
 * Every error the library raises on purpose carries a stable machine `code`, so the HTTP layer and the CLI can map
 * it without matching message text. `expose` marks messages that are safe to show to an API client as they are.
 */
export type ErrorCode =
  | "CONFIG_INVALID"
  | "INDEX_NOT_FOUND"
  | "INDEX_MISMATCH"
  | "INDEX_CORRUPT"
  | "INGEST_FAILED"
  | "DISK_FULL"
  | "PARSE_FAILED"
  | "EMBEDDINGS_FAILED"
  | "EMBEDDINGS_BAD_OUTPUT"
  | "PROVIDER_UNKNOWN"
  | "BAD_REQUEST"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNSUPPORTED_FILE_TYPE"
  | "PAYLOAD_TOO_LARGE"
  | "UNAUTHORIZED"
  | "WRITE_DISABLED"
  | "NOT_FOUND"
  | "QA_FILE_INVALID"
  | "REBUILD_IN_PROGRESS"
  | "UPSTREAM_TIMEOUT"
  | "UPSTREAM_AUTH"
  | "UPSTREAM_RATE_LIMITED"
  | "UPSTREAM_ERROR"
  | "UPSTREAM_BAD_RESPONSE"
  | "RATE_LIMITED"
  | "OVERLOADED"
  | "DB_UNAVAILABLE"
  | "EXTENSION_MISSING"
  | "DB_SCHEMA_TOO_NEW"
  | "INTERNAL";

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, opts: { status?: number; expose?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.expose = opts.expose ?? this.status < 500;
  }
}

export class ConfigError extends AppError {
  readonly issues: string[];
  constructor(issues: string[]) {
    super("CONFIG_INVALID", `Invalid configuration:\n  - ${issues.join("\n  - ")}`, { status: 500, expose: false });
    this.issues = issues;
  }
}

/** The index on disk cannot be used with the current settings; the message says which command fixes it. */
export class IndexMismatchError extends AppError {
  constructor(message: string) {
    super("INDEX_MISMATCH", message, { status: 503, expose: true });
  }
}

export class IndexNotFoundError extends AppError {
  readonly dir: string;
  constructor(dir: string) {
    // The message reaches HTTP clients, so it names the setting, not the server's file layout.
    super("INDEX_NOT_FOUND", "No index has been built yet (VECTORSTORE_DIR). Build it with: npm run ingest", { status: 503, expose: true });
    this.dir = dir;
  }
}

export class IndexCorruptError extends AppError {
  constructor(message: string, cause?: unknown) {
    super("INDEX_CORRUPT", `${message} Rebuild it with: npm run ingest -- --full`, { status: 503, expose: true, cause });
  }
}

/**
 * A write failed for lack of space (ENOSPC, or EDQUOT for a quota): 507 Insufficient Storage (RFC 4918), the status for
 * "the server cannot store what is needed to complete the request". The message is safe to show: it names no paths.
 */
export class DiskFullError extends AppError {
  constructor(message: string, cause?: unknown) {
    super("DISK_FULL", message, { status: 507, expose: true, cause });
  }
}

/** Whether a thrown value is the operating system saying the disk (or the user's quota) is full. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

export class ParseError extends AppError {
  constructor(source: string, reason: string, cause?: unknown) {
    super("PARSE_FAILED", `${source}: ${reason}`, { status: 422, expose: true, cause });
  }
}

export class EmbeddingsError extends AppError {
  constructor(code: "EMBEDDINGS_FAILED" | "EMBEDDINGS_BAD_OUTPUT", message: string, cause?: unknown) {
    super(code, message, { status: 502, expose: false, cause });
  }
}

/** The answer model failed; messages name provider, model and status only (never keys or upstream bodies). */
export class UpstreamError extends AppError {
  constructor(
    code: "UPSTREAM_TIMEOUT" | "UPSTREAM_AUTH" | "UPSTREAM_RATE_LIMITED" | "UPSTREAM_ERROR" | "UPSTREAM_BAD_RESPONSE",
    message: string,
    cause?: unknown,
  ) {
    super(code, message, { status: code === "UPSTREAM_TIMEOUT" ? 504 : 502, expose: true, cause });
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** A one-line description of any thrown value, for logs and CLI summaries. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
