import { type FSWatcher, watch } from "node:fs";

/**
 * Calls `rebuild` after files under `dir` change, debounced: an editor's save-as-rename or a folder copy produces
 * bursts of events, and one rebuild after the burst is what is wanted. Rebuilds never overlap: a change that arrives
 * during one schedules exactly one more. Hidden files (editor swap files, .DS_Store) are ignored.
 */
export function watchDocs(dir: string, rebuild: () => Promise<unknown>, opts: { debounceMs?: number; onError?: (err: unknown) => void } = {}): () => void {
  const debounceMs = opts.debounceMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let pending = false;
  let stopped = false;

  const run = async (): Promise<void> => {
    if (stopped) return;
    if (running) {
      pending = true;
      return;
    }
    running = true;
    try {
      await rebuild();
    } catch (err) {
      opts.onError?.(err);
    } finally {
      running = false;
      if (pending && !stopped) {
        pending = false;
        schedule();
      }
    }
  };
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), debounceMs);
  };

  // Node 20 supports recursive watching on Linux, macOS and Windows.
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, name) => {
    const file = name?.toString() ?? "";
    if (file.split(/[\\/]/).some((part) => part.startsWith(".") || part.endsWith("~"))) return;
    schedule();
  });
  watcher.on("error", (err) => opts.onError?.(err));
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
