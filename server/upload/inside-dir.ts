import { realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** True when `child` is `parent` itself or lies below it, judged on the resolved paths (no `..` escapes). */
export function isInsideOrSame(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** True when `child` lies strictly below `parent`. */
export function isInside(parent: string, child: string): boolean {
  return isInsideOrSame(parent, child) && relative(resolve(parent), resolve(child)) !== "";
}

/**
 * Resolves `relPath` under `root` and proves the result stays inside it, also after symlinks in the folders on the
 * way are followed (the file itself is not followed: unlinking or creating it touches the link, not its target).
 * Returns undefined when the path would leave `root`; throws ENOENT when its folder does not exist.
 */
export async function resolveInside(root: string, relPath: string): Promise<string | undefined> {
  const lexical = resolve(root, relPath);
  if (!isInside(root, lexical)) return undefined;
  const [realRoot, realParent] = await Promise.all([realpath(root), realpath(dirname(lexical))]);
  const real = join(realParent, basename(lexical));
  return isInside(realRoot, real) ? real : undefined;
}
