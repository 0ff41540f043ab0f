import { extname } from "node:path";
import type { Loader } from "../document.ts";
import { htmlLoader } from "./html-loader.ts";
import { markdownLoader } from "./markdown-loader.ts";
import { pdfLoader } from "./pdf-loader.ts";
import { textLoader } from "./text-loader.ts";

export const DEFAULT_LOADERS: readonly Loader[] = [markdownLoader, textLoader, pdfLoader, htmlLoader];

export interface LoaderRegistry {
  forPath(path: string): Loader | undefined;
  extensions(): string[];
}

export function createLoaderRegistry(loaders: readonly Loader[] = DEFAULT_LOADERS): LoaderRegistry {
  const byExt = new Map<string, Loader>();
  for (const l of loaders) for (const e of l.extensions) byExt.set(e, l);
  return {
    forPath: (path) => byExt.get(extname(path).toLowerCase()),
    extensions: () => [...byExt.keys()].sort(),
  };
}
