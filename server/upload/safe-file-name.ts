import { extname } from "node:path";

/** Longest stored name in characters (extension included); keeps room for " (n)" under every filesystem's limit. */
export const MAX_NAME_CHARS = 120;
/** ext4/APFS/NTFS cap a name at 255 bytes; 120 CJK characters are 360 UTF-8 bytes, so bytes are capped too. */
const MAX_NAME_BYTES = 200;
const FALLBACK_STEM = "upload";

// Characters Windows refuses in names, plus `/` `\` (path separators everywhere).
const RESERVED = /[<>:"/\\|?*]/g;
// Control (Cc), format (Cf: bidi overrides that can disguise an extension, zero-width characters) and lone surrogates.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/**
 * Turns a client-supplied file name into one the server is willing to create: only the last path component
 * (after either separator), NFKC-normalised (so full-width `．．／` becomes `../` before it is removed), without
 * control characters, reserved characters, `..` runs or leading dots, and capped in length. Chinese and other
 * letters are kept. The result never contains a separator, so joined to a folder it stays in that folder.
 * Returns the stem and the lower-cased extension separately so the caller can check the type and add " (2)".
 */
export function safeFileName(raw: string): { stem: string; ext: string } {
  let name = raw.normalize("NFKC").replace(INVISIBLE, "");
  name = name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1);
  name = name
    .replace(RESERVED, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/\s+/g, " ")
    .replace(/^[.\s]+/, "")
    .replace(/[.\s]+$/, "");
  const ext = extname(name).toLowerCase();
  let stem = (ext ? name.slice(0, -ext.length) : name).replace(/[.\s]+$/, "");
  if (WINDOWS_DEVICE.test(stem)) stem = `_${stem}`;
  stem = truncate(stem, MAX_NAME_CHARS - ext.length, MAX_NAME_BYTES - ext.length);
  return { stem: stem || FALLBACK_STEM, ext };
}

/** `stem.ext`, or `stem (n).ext` for the n-th name tried when earlier ones exist. */
export function numberedName(name: { stem: string; ext: string }, n: number): string {
  return n <= 1 ? `${name.stem}${name.ext}` : `${name.stem} (${n})${name.ext}`;
}

/** Cuts by code points (never half a surrogate pair) to fit both caps. */
function truncate(text: string, maxChars: number, maxBytes: number): string {
  let out = "";
  let bytes = 0;
  let chars = 0;
  for (const ch of text) {
    const b = Buffer.byteLength(ch);
    if (chars + 1 > maxChars || bytes + b > maxBytes) break;
    out += ch;
    bytes += b;
    chars += 1;
  }
  return out.trimEnd();
}
