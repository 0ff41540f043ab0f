import type { Loader } from "../document.ts";
import { defaultParserPool } from "./default-pool.ts";
import type { ParserPool } from "./parser-pool.ts";
import type { ParseKind } from "./protocol.ts";

/**
 * A Loader with the same format and extensions as `inProcess`, whose `load` runs `inProcess` in a worker of the
 * parser pool (the default pool unless one is given). Callers see the ordinary Loader interface.
 */
export function isolatedLoader(inProcess: Loader, kind: ParseKind, pool: () => ParserPool = defaultParserPool): Loader {
  return {
    format: inProcess.format,
    extensions: inProcess.extensions,
    load: ({ source, data }) => pool().parse(kind, source, data),
  };
}
