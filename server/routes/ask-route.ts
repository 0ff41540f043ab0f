import { Router } from "express";
import { z } from "zod";
import type { AskResponse } from "../../src/answer/types.ts";
import { MAX_K } from "../../src/knowledge-base/knowledge-base.ts";
import type { AppDeps } from "../app-deps.ts";
import { toErrorResponse } from "../http-error.ts";
import { openSse } from "../sse.ts";
import { parseBody } from "../validate.ts";

export const MAX_QUESTION_CHARS = 2000;
export const MAX_HISTORY_TURNS = 20;
const MAX_TURN_CHARS = 8000;

/** Lone surrogates cannot be encoded for a model or a tokenizer; they are refused, not silently mangled. */
const noLoneSurrogates = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const noControls = (s: string) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s);

export const Question = z
  .string({ error: "question must be a string" })
  .trim()
  .min(1, "question must not be empty")
  .max(MAX_QUESTION_CHARS, `question must be at most ${MAX_QUESTION_CHARS} characters`)
  .refine(noLoneSurrogates, "question contains invalid Unicode (a lone surrogate)")
  .refine(noControls, "question contains control characters");

export const ChatTurnSchema = z.object({
  role: z.enum(["user", "assistant"], { error: "history[].role must be user or assistant" }),
  content: z.string({ error: "history[].content must be a string" }).max(MAX_TURN_CHARS, `history[].content must be at most ${MAX_TURN_CHARS} characters`),
});

export const AskBody = z.object({
  question: Question,
  k: z
    .number({ error: "k must be a number" })
    .int("k must be a whole number")
    .min(1, "k must be at least 1")
    .max(MAX_K, `k must be at most ${MAX_K}`)
    .optional(),
  history: z
    .array(ChatTurnSchema, { error: "history must be an array" })
    .max(MAX_HISTORY_TURNS, `history may hold at most ${MAX_HISTORY_TURNS} turns`)
    .optional(),
  stream: z.boolean({ error: "stream must be true or false" }).optional(),
});

/** POST /ask: JSON by default; Server-Sent Events with "stream": true or Accept: text/event-stream. */
export function askRoute(deps: AppDeps): Router {
  const router = Router();
  router.post("/ask", async (req, res) => {
    const body = parseBody(AskBody, req.body);
    const abort = new AbortController();
    // "close" on the response fires when the client goes away before we finish: cancel retrieval and the model call.
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const request = { question: body.question, ...(body.k ? { k: body.k } : {}), ...(body.history ? { history: body.history } : {}), signal: abort.signal };
    const wantsStream = body.stream ?? req.accepts(["application/json", "text/event-stream"]) === "text/event-stream";

    if (!wantsStream) {
      const result: AskResponse = await deps.answers.ask(request);
      res.json(result);
      return;
    }

    const sse = openSse(res);
    try {
      const result = await deps.answers.ask(request, {
        onSources: (sources) => sse.send("sources", { sources }),
        onToken: (text) => sse.send("token", { text }),
      });
      sse.send("done", result);
    } catch (err) {
      if (!abort.signal.aborted) {
        const { status, body: errorBody } = toErrorResponse(err, res.locals.requestId as string | undefined);
        if (status >= 500) deps.logger.error("ask stream failed", { requestId: res.locals.requestId, status, err });
        sse.send("error", errorBody);
      }
    } finally {
      sse.close();
    }
  });
  return router;
}
