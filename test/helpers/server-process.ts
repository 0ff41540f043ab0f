import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./run-cli.ts";

/** What `npm start` runs, as a child process on port 0; `url` resolves once it logs that it is listening. */
export function startServer(env: Record<string, string>) {
  const child = spawn(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "server/start-server.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(log);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, url, exited, log: () => log };
}
