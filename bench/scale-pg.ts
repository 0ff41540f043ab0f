import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface PgChild {
  url: string;
  pid: number;
  /** Resident memory of the server process (VmRSS), in MB. */
  rssMb(): number;
  /** Peak resident memory of the server process (VmHWM), in MB. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

function procStatusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * scripts/pglite-server.ts in its own process (as `npm run db:dev` runs it), so the database works on the second core
 * and the measured latency includes the loopback socket, as for the application. Node runs the script directly
 * (no npm/npx wrapper), so the pid is the server's and a signal reaches it.
 */
export function startPgChild(dataDir: string): Promise<PgChild> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(root, "scripts/pglite-server.ts"), "--port", "0", "--data", dataDir], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  return new Promise((resolveStart, rejectStart) => {
    let out = "";
    const onExit = (code: number | null) => rejectStart(new Error(`pglite server exited (${code}) before listening: ${stderr || out}`));
    child.once("exit", onExit);
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /^DATABASE_URL=(\S+)$/m.exec(out);
      if (m && child.pid) {
        child.off("exit", onExit);
        const pid = child.pid;
        resolveStart({
          url: m[1]!,
          pid,
          rssMb: () => procStatusMb(pid, "VmRSS"),
          peakRssMb: () => procStatusMb(pid, "VmHWM"),
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
            await exited;
            clearTimeout(timer);
          },
        });
      }
    });
  });
}

/** pgvector's binary input format (vector_recv): int16 dimensions, int16 unused, then float32s, big-endian. */
export function vectorBinary(v: Float32Array): Buffer {
  const b = Buffer.allocUnsafe(4 + 4 * v.length);
  b.writeInt16BE(v.length, 0);
  b.writeInt16BE(0, 2);
  for (let i = 0; i < v.length; i++) b.writeFloatBE(v[i]!, 4 + 4 * i);
  return b;
}

/** The text form the application sends (src/store/pg/pg-vector-search.ts vectorLiteral; pgvector's toSql is the same). */
export function vectorText(v: Float32Array): string {
  return `[${Array.from(v).join(",")}]`;
}
