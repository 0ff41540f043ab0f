import { existsSync } from "node:fs";
import { loadConfig } from "../config/config.ts";
import { AppError, ConfigError, describeError, IndexNotFoundError } from "../errors/app-error.ts";
import { askCommand } from "./commands/ask-command.ts";
import { evalCommand } from "./commands/eval-command.ts";
import { ingestCommand } from "./commands/ingest-command.ts";
import { searchCommand } from "./commands/search-command.ts";

/** CLI composition root: reads `.env` and the environment once, then hands a typed config to the command. */
const COMMANDS: Record<string, (argv: string[], cfg: (o: { docsDir?: string; storeDir?: string }) => ReturnType<typeof loadConfig>) => Promise<number>> = {
  ingest: ingestCommand,
  search: searchCommand,
  ask: askCommand,
  eval: evalCommand,
};

const USAGE = `Usage: tsx src/cli/main.ts <command> [options]   (or: npm run <command> -- [options])

Commands:
  ingest   build the index from DOCS_DIR
  search   retrieve passages for a query
  ask      answer a question with citations
  eval     hit@k / MRR for a question file

Every command has --help.`;

async function main(argv: string[]): Promise<number> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command "${name}". Known: ${Object.keys(COMMANDS).join(", ")}.\n\n${USAGE}`);
    return 1;
  }
  return command(rest, (overrides) => loadConfig(process.env, overrides));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof IndexNotFoundError) console.error(`Error [${err.code}]: no index in ${err.dir}. Build it with: npm run ingest`);
    else if (err instanceof ConfigError || err instanceof AppError) console.error(`Error [${err.code}]: ${err.message}`);
    else console.error(`Unexpected error: ${describeError(err)}`);
    if (process.env.DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = 1;
  },
);
