import { ParseError } from "../../errors/app-error.ts";

/**
 * Why the isolated parser gave up on a file without the parser itself reporting an error:
 * - PARSE_TIMEOUT: it ran past PARSE_TIMEOUT_MS and its worker was terminated;
 * - PARSE_OUT_OF_MEMORY: its worker hit the PARSE_MAX_MEMORY_MB heap limit and was stopped by V8;
 * - PARSE_CRASHED: its worker died some other way (an uncaught error, a failed start).
 */
export type ParserLimitCode = "PARSE_TIMEOUT" | "PARSE_OUT_OF_MEMORY" | "PARSE_CRASHED";

/**
 * A ParseError (code PARSE_FAILED, 422, exposed) for one file, with the precise reason in `limit`. The reason is also
 * written into the message (`docs/a.pdf: … [PARSE_TIMEOUT]`), because `IngestSummary.failed[]` and the CLI summary
 * carry messages only.
 */
export class ParserLimitError extends ParseError {
  readonly limit: ParserLimitCode;
  constructor(source: string, limit: ParserLimitCode, reason: string, cause?: unknown) {
    super(source, `${reason} [${limit}]`, cause);
    this.limit = limit;
  }
}
