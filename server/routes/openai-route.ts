import { randomBytes } from "node:crypto";
import { type ErrorRequestHandler, type Response, Router } from "express";
import { z } from "zod";
import type { AskRequest, AskResponse, ChatTurn } from "../../src/answer/types.ts";
import type { AppDeps } from "../app-deps.ts";
import { badRequest } from "../http-error.ts";
import { openAiErrorHandler, toOpenAiErrorResponse } from "../openai-error.ts";
import { openSse, writeData } from "../sse.ts";
import { parseBody } from "../validate.ts";
import { ChatTurnSchema, MAX_HISTORY_TURNS, Question } from "./ask-route.ts";

/** The one model this server lists. Any `model` a client sends is accepted and echoed back: there is only one answerer. */
export const MODEL_ID = "kb-assistant";

/** We do not tokenize; zeros keep clients that read `usage` working without pretending to a count. */
const ZERO_USAGE = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } as const;

const TextPart = z.object({
  type: z.literal("text", { error: 'only {"type": "text"} content parts are supported' }),
  text: z.string({ error: "content parts need a text string" }),
});

const Message = z.object({
  role: z.enum(["system", "user", "assistant", "developer", "tool"], { error: "role must be system, user, assistant, developer or tool" }),
  // null: an assistant turn that only made tool calls.
  content: z.union([z.string(), z.array(TextPart)], { error: 'content must be a string or an array of {"type": "text", "text"} parts' }).nullish(),
});

/** OpenAI's request shape. Fields we do not use (temperature, max_tokens, tools, …) are accepted and dropped. */
export const ChatCompletionBody = z.object({
  model: z.string({ error: "model must be a string" }).max(256, "model must be at most 256 characters").nullish(),
  messages: z
    .array(Message, { error: "messages must be an array of chat messages" })
    .min(1, "messages must not be empty: the last message, from the user, is the question"),
  stream: z.boolean({ error: "stream must be true or false" }).nullish(),
  stream_options: z.object({ include_usage: z.boolean({ error: "stream_options.include_usage must be true or false" }).nullish() }).nullish(),
});
type ChatCompletionBody = z.infer<typeof ChatCompletionBody>;
type Message = z.infer<typeof Message>;

const textOf = (content: Message["content"]): string => (typeof content === "string" ? content : (content ?? []).map((p) => p.text).join("\n"));

/**
 * The last message is the question; earlier user/assistant messages are the history. System, developer and tool
 * messages are ignored on purpose: the knowledge base's own system prompt (answer only from the sources, cite them)
 * applies, and a client's prompt must not be able to replace it.
 */
export function toAskRequest(body: ChatCompletionBody): Omit<AskRequest, "signal"> {
  const lastIndex = body.messages.length - 1;
  const last = body.messages[lastIndex];
  if (last?.role !== "user") {
    throw badRequest(`messages.${lastIndex}: the last message must be from the user (it is the question), not ${last?.role ?? "missing"}`);
  }
  const question = Question.safeParse(textOf(last.content));
  if (!question.success) throw badRequest(`messages.${lastIndex}.content: ${question.error.issues[0]?.message ?? "invalid question"}`);

  const turns = body.messages.slice(0, lastIndex).flatMap((m, index) => {
    const content = textOf(m.content);
    return (m.role === "user" || m.role === "assistant") && content.trim() ? [{ index, role: m.role, content }] : [];
  });
  // Chat clients resend the whole conversation every time, so a long chat must keep working: the cap keeps the most
  // recent turns (the ones a follow-up refers to) instead of refusing the request as /ask does.
  const history: ChatTurn[] = turns.slice(-MAX_HISTORY_TURNS).map(({ index, ...turn }) => {
    const parsed = ChatTurnSchema.safeParse(turn);
    if (!parsed.success) throw badRequest(`messages.${index}.content: ${parsed.error.issues[0]?.message ?? "invalid message"}`);
    return parsed.data;
  });
  return { question: question.data, ...(history.length > 0 ? { history } : {}) };
}

function completionMeta(model: string) {
  return { id: `chatcmpl-${randomBytes(12).toString("hex")}`, created: Math.floor(Date.now() / 1000), model };
}

/**
 * GET /v1/models and POST /v1/chat/completions, so OpenAI clients work unchanged. Returns the router and the error
 * handler that gives /v1 errors OpenAI's `type`; register both with one `app.use(openaiRoute(deps))`.
 */
export function openaiRoute(deps: AppDeps): [Router, ErrorRequestHandler] {
  const router = Router();
  const model = { id: MODEL_ID, object: "model", created: Math.floor(Date.now() / 1000), owned_by: "kb-assistant" } as const;

  router.get("/v1/models", (_req, res) => {
    res.json({ object: "list", data: [model] });
  });
  router.get("/v1/models/:id", (req, res) => {
    if (req.params.id !== MODEL_ID) throw badRequest(`No model ${req.params.id}: this server lists only ${MODEL_ID}.`, "NOT_FOUND", 404);
    res.json(model);
  });

  router.post("/v1/chat/completions", async (req, res) => {
    const body = parseBody(ChatCompletionBody, req.body);
    const ask = toAskRequest(body);
    const abort = new AbortController();
    // "close" on the response fires when the client goes away before we finish: cancel retrieval and the model call.
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const meta = completionMeta(body.model || MODEL_ID);
    const request: AskRequest = { ...ask, signal: abort.signal };

    if (!body.stream) {
      const result = await deps.answers.ask(request);
      res.json({
        ...meta,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: result.answer }, finish_reason: "stop" }],
        usage: ZERO_USAGE,
        ...extras(result),
      });
      return;
    }
    await streamCompletion(deps, res, request, meta, abort.signal, body.stream_options?.include_usage === true);
  });

  // Unknown /v1 paths get their 404 here, so it carries OpenAI's error `type` like every other /v1 error.
  router.use("/v1", (req, _res, next) => next(badRequest(`No route for ${req.method} ${req.originalUrl.split("?")[0]}`, "NOT_FOUND", 404)));

  return [router, openAiErrorHandler(deps.logger)];
}

/** The fields API.md adds to OpenAI's shape: where the answer came from and whether the knowledge base knew it. */
function extras(result: AskResponse) {
  return { sources: result.sources, found: result.found, mode: result.mode };
}

async function streamCompletion(
  deps: AppDeps,
  res: Response,
  request: AskRequest,
  meta: ReturnType<typeof completionMeta>,
  signal: AbortSignal,
  includeUsage: boolean,
): Promise<void> {
  const chunk = (delta: Record<string, string>, finishReason: "stop" | null) => ({
    ...meta,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
  // openSse sets the streaming headers and the keep-alive comments (which OpenAI clients skip); the events themselves
  // are plain `data:` lines, as OpenAI sends them.
  const sse = openSse(res);
  writeData(res, chunk({ role: "assistant", content: "" }, null));
  try {
    const result = await deps.answers.ask(request, { onToken: (text) => writeData(res, chunk({ content: text }, null)) });
    writeData(res, { ...chunk({}, "stop"), ...extras(result) });
    if (includeUsage) writeData(res, { ...meta, object: "chat.completion.chunk", choices: [], usage: ZERO_USAGE });
    writeData(res, "[DONE]");
  } catch (err) {
    if (!signal.aborted) {
      const { status, body } = toOpenAiErrorResponse(err, res.locals.requestId as string | undefined);
      if (status >= 500) deps.logger.error("chat completion stream failed", { requestId: res.locals.requestId, status, err });
      // The 200 status is already sent, so the failure travels in the stream: OpenAI SDKs raise an APIError for a data
      // line holding `error`. No [DONE] follows, because [DONE] means "the answer is complete" and this one is not.
      writeData(res, body);
    }
  } finally {
    sse.close();
  }
}
