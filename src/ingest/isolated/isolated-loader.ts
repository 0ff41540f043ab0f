import type { Loader } from "../document.ts";
import type { ParserPool } from "./parser-pool.ts";
import type { ParseKind } from "./protocol.ts";

/**
 * A Loader with the same format and extensions as `inProcess`, whose `load` runs `inProcess` in a worker of the
 * parser pool (the process-wide default pool unless one is given). Callers see the ordinary Loader interface.
 */
export function isolatedLoader(inProcess: Loader, kind: ParseKind, pool?: () => ParserPool): Loader {
  return {
    format: inProcess.format,
    extensions: inProcess.extensions,
    async load({ source, data }) {
      // Imported on first use: the parse worker imports the loader modules too, and must not pay for the config
      // schema (zod) that the default pool reads its limits with — that was ~0.4 s of every worker start.
      const get = pool ?? (await import("./default-pool.ts")).defaultParserPool;
      return get().parse(kind, source, data);
    },
  };
}
