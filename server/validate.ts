import type { z } from "zod";
import { badRequest } from "./http-error.ts";

/** Validates a JSON body at the boundary; the first problem becomes a 400 that names the field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object (Content-Type: application/json).");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".");
    throw badRequest(issue ? `${path ? `${path}: ` : ""}${issue.message}` : "Invalid request body.");
  }
  return parsed.data;
}
