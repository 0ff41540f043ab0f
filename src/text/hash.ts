import { createHash } from "node:crypto";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A short, stable id: enough bits that collisions within one knowledge base are not a concern. */
export function shortId(...parts: string[]): string {
  return sha256(parts.join("\u0000")).slice(0, 16);
}
