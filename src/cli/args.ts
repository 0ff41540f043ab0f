import { parseArgs } from "node:util";
import { AppError } from "../errors/app-error.ts";

type Options = Record<string, { type: "string" | "boolean"; short?: string }>;
type Values<O extends Options> = { [K in keyof O]?: O[K]["type"] extends "string" ? string : boolean } & { help?: boolean };

/** parseArgs with errors that say what to do instead of a stack trace. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string): { values: Values<O>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    return { values: parsed.values as Values<O>, positionals: parsed.positionals };
  } catch (err) {
    throw new AppError("BAD_REQUEST", `${err instanceof Error ? err.message : String(err)}\n\n${usage}`, { status: 400 });
  }
}

export function parsePositiveInt(value: string | undefined, name: string, fallback: number, max = 1000): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new AppError("BAD_REQUEST", `${name} must be a whole number from 1 to ${max} (got "${value}")`, { status: 400 });
  return n;
}
