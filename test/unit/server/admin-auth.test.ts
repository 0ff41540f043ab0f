import type { NextFunction, Request, Response } from "express";
import { describe, expect, it } from "vitest";
import type { AppError } from "../../../src/errors/app-error.ts";
import { adminAuth } from "../../../server/middleware/admin-auth.ts";

function run(token: string | undefined, authorization?: string, query: Record<string, string> = {}) {
  const headers: Record<string, string> = {};
  const req = { query, complete: true, get: (name: string) => (name.toLowerCase() === "authorization" ? authorization : undefined) } as unknown as Request;
  const res = { setHeader: (k: string, v: string) => (headers[k.toLowerCase()] = v) } as unknown as Response;
  let passed: unknown = "not called";
  adminAuth(token)(req, res, ((err?: unknown) => {
    passed = err;
  }) as NextFunction);
  const err = passed as AppError | undefined;
  return { ok: passed === undefined, status: err?.status, code: err?.code, headers };
}

describe("adminAuth", () => {
  it("lets the right bearer token through (scheme case-insensitive)", () => {
    expect(run("s3cret", "Bearer s3cret").ok).toBe(true);
    expect(run("s3cret", "bearer   s3cret ").ok).toBe(true);
  });

  it("is disabled (403), never open, without a configured token", () => {
    expect(run(undefined, "Bearer anything")).toMatchObject({ ok: false, status: 403, code: "WRITE_DISABLED" });
    expect(run(undefined)).toMatchObject({ status: 403 });
  });

  const refused: [string, string | undefined, Record<string, string>?][] = [
    ["no header", undefined],
    ["an empty token", "Bearer "],
    ["a wrong token", "Bearer s3cre"],
    ["a longer token", "Bearer s3cret-and-more"],
    ["another scheme", "Basic s3cret"],
    ["the token in the query", undefined, { token: "s3cret" }],
    ["access_token in the query, even with the header", "Bearer s3cret", { access_token: "s3cret" }],
  ];
  for (const [label, header, query] of refused) {
    it(`refuses ${label} with 401 and WWW-Authenticate: Bearer`, () => {
      const r = run("s3cret", header, query);
      expect(r).toMatchObject({ ok: false, status: 401, code: "UNAUTHORIZED" });
      expect(r.headers["www-authenticate"]).toBe("Bearer");
    });
  }
});
