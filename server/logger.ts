/** Structured one-line JSON logs on stderr. Errors are reduced to name/code/message: no request bodies, no keys. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;

function serialise(fields: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) out[k] = { name: v.name, message: v.message, code: (v as { code?: unknown }).code };
    else out[k] = v;
  }
  return out;
}

export function createLogger(level: keyof typeof LEVELS = "info", write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const min = LEVELS[level];
  const log = (lvl: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[lvl] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...serialise(fields) }));
  };
  return { info: (m, f) => log("info", m, f), warn: (m, f) => log("warn", m, f), error: (m, f) => log("error", m, f) };
}
