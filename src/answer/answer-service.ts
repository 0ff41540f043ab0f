import type { LlmConfig } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import { type KnowledgeBase, toHit } from "../knowledge-base/knowledge-base.ts";
import type { RetrievedChunk } from "../retrieval/hybrid-retriever.ts";
import { detectAbstention, streamingMarkerFilter } from "./abstention.ts";
import { checkCitations, streamingCitationFilter } from "./citations.ts";
import { extractAnswer } from "./extractive-answerer.ts";
import { dependsOnPrevious, followUpQuery, previousUserQuestion } from "./follow-up.ts";
import { closestPassagesIntro, notFoundMessage } from "./language.ts";
import { formatContext } from "./prompts.ts";
import type { RagChains } from "./rag-chain.ts";
import { judgeRelevance } from "./relevance.ts";
import type { AnswerSource, AskHandlers, AskRequest, AskResponse, ChatTurn } from "./types.ts";
import { isAbort, toUpstreamError } from "./upstream-error.ts";

/** Longest answer accepted from a model; a stream that goes on past it is cut off as malformed. */
export const MAX_ANSWER_CHARS = 20_000;

export interface AnswerServiceOptions {
  defaultK: number;
  /** The answer model's chains; null for offline extractive answers. */
  llm: { chains: RagChains; config: LlmConfig } | null;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Answers questions from the knowledge base: retrieve, decide whether anything relevant was found, then answer with the
 * LangChain chain (LLM mode) or the extractive answerer (offline). Sources are reported before the first token.
 */
export class AnswerService {
  constructor(
    private readonly kb: KnowledgeBase,
    private readonly options: AnswerServiceOptions,
  ) {}

  get mode(): "llm" | "extractive" {
    return this.options.llm ? "llm" : "extractive";
  }

  get modelName(): string {
    const c = this.options.llm?.config;
    return c ? `${c.provider}:${c.model}` : "local";
  }

  async ask(req: AskRequest, handlers: AskHandlers = {}): Promise<AskResponse> {
    const started = performance.now();
    const k = req.k ?? this.options.defaultK;
    const history = req.history ?? [];

    const query = await this.retrievalQuery(req.question, history, req.signal);
    const retrieved = await this.kb.retrieveDetailed(query, k, req.signal);
    const retrievalMs = performance.now() - started;
    const generationStarted = performance.now();

    // The one relevance decision (relevance.ts). Off-topic questions are refused in every mode; in LLM mode everything
    // else goes to the model, which is told to say so when the sources do not hold the answer.
    const decision = judgeRelevance(retrieved.chunks);
    if (decision.verdict === "off-topic") return this.notFound(req.question, handlers, retrievalMs);

    if (!this.options.llm) {
      if (decision.verdict === "unseen") return this.notFound(req.question, handlers, retrievalMs);
      const extract = extractAnswer(retrieved.plan, retrieved.chunks, retrieved.index, this.kb.tokenizer, undefined, req.question);
      // A borderline retrieval is answered offline only when a sentence answers the question outright or supplies
      // what it asks for (a date for "when", a number for 多少); it is then introduced as the closest passages.
      if (!extract || (decision.verdict === "borderline" && !extract.direct && !extract.supplies)) return this.notFound(req.question, handlers, retrievalMs);
      // A question asking for a number or a date is not answered by a sentence with neither: the documents name the
      // subject but not the figure (「Phi-3 有多少参数？」 over notes that only list Phi-3 among runnable models).
      if (extract.wantsFigure && !extract.supplies) return this.notFound(req.question, handlers, retrievalMs);
      const sources = this.sourcesOf(
        extract.cited.map((i) => retrieved.chunks[i]).filter((c): c is RetrievedChunk => c !== undefined),
        query,
      );
      const answer = extract.direct ? extract.answer : `${closestPassagesIntro(req.question)}\n\n${extract.answer}`;
      handlers.onSources?.(sources);
      handlers.onToken?.(answer);
      return this.response(answer, true, sources, retrievalMs, performance.now() - generationStarted);
    }

    const sources = this.sourcesOf(retrieved.chunks, query);
    handlers.onSources?.(sources);
    const { text, abstained } = await this.generate(req, retrieved.chunks, history, handlers, sources.length);
    // The model said the sources do not hold the answer (abstention.ts): not found, and no sources to cite.
    return this.response(text, !abstained, abstained ? [] : sources, retrievalMs, performance.now() - generationStarted);
  }

  /**
   * The text to retrieve with. Offline, a follow-up that depends on the previous question (a pronoun, an elided
   * subject: follow-up.ts) is read together with it, and a question that stands alone is read alone — a new topic in
   * the same conversation must not drag the old one along. In LLM mode the model rewrites it as a stand-alone question.
   */
  private async retrievalQuery(question: string, history: readonly ChatTurn[], signal?: AbortSignal): Promise<string> {
    if (history.length === 0) return question;
    if (!this.options.llm) {
      const previous = previousUserQuestion(history);
      return previous && dependsOnPrevious(question, previous) ? followUpQuery(question, previous) : question;
    }
    const { config, chains } = this.options.llm;
    try {
      const rewritten = await chains.rewrite({ question, history }, this.deadline(signal));
      const q = rewritten.trim();
      return q.length > 0 && q.length <= 2000 ? q : question;
    } catch (err) {
      if (signal?.aborted || isAbort(err)) throw err;
      throw toUpstreamError(err, { provider: config.provider, model: config.model, timeoutMs: config.timeoutMs });
    }
  }

  private async generate(
    req: AskRequest,
    chunks: readonly RetrievedChunk[],
    history: readonly ChatTurn[],
    handlers: AskHandlers,
    sourceCount: number,
  ): Promise<{ text: string; abstained: boolean }> {
    const llm = this.options.llm;
    if (!llm) throw new AppError("INTERNAL", "no answer model configured");
    const where = { provider: llm.config.provider, model: llm.config.model, timeoutMs: llm.config.timeoutMs };
    const signal = this.deadline(req.signal);
    let answer = "";
    // What the client is shown, token by token; the final answer is exactly this, on every transport.
    let shown = "";
    // The abstention marker is removed before anything else sees the text, so no client ever shows it; then the
    // citation check: an invented [9] never reaches a client.
    const markers = streamingMarkerFilter();
    const citations = streamingCitationFilter(sourceCount);
    const emit = (text: string): void => {
      if (!text) return;
      shown += text;
      handlers.onToken?.(text);
    };
    try {
      const stream = await llm.chains.answer({ context: formatContext(chunks), question: req.question, history }, signal);
      for await (const piece of stream) {
        if (!piece) continue;
        answer += piece;
        if (answer.length > MAX_ANSWER_CHARS) {
          throw toUpstreamError(new SyntaxError("answer too long"), where);
        }
        emit(citations.push(markers.push(piece)));
      }
      // A 200 that is not an event stream (an HTML login page, plain JSON) parses as zero events: that is a bad
      // response, not an empty answer to show as found.
      if (answer.trim() === "") throw toUpstreamError(new SyntaxError("no answer text in the stream"), where);
      emit(citations.push(markers.flush()));
      emit(citations.flush());
    } catch (err) {
      if (req.signal?.aborted) throw err;
      if (signal.aborted) throw toUpstreamError(Object.assign(new Error("deadline"), { name: "TimeoutError" }), where);
      throw toUpstreamError(err, where);
    }
    const abstained = detectAbstention(checkCitations(answer, sourceCount).text) || shown.trim() === "";
    // A bare marker (or nothing left once it and invalid citations are removed) still gets a sentence to read.
    if (shown.trim() === "") emit(notFoundMessage(req.question));
    return { text: shown, abstained };
  }

  /** The whole model call (all retries, the whole stream) must finish within LLM_TIMEOUT_MS. */
  private deadline(signal?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(this.options.llm?.config.timeoutMs ?? 60_000);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  private sourcesOf(chunks: readonly RetrievedChunk[], query: string): AnswerSource[] {
    const terms = this.kb.tokenizer.analyzeQuery(query).words;
    return chunks.map((c) => {
      const { text: _text, ...hit } = toHit(c, terms);
      return hit;
    });
  }

  private notFound(question: string, handlers: AskHandlers, retrievalMs: number): AskResponse {
    const answer = notFoundMessage(question);
    handlers.onSources?.([]);
    handlers.onToken?.(answer);
    return this.response(answer, false, [], retrievalMs, 0);
  }

  private response(answer: string, found: boolean, sources: AnswerSource[], retrievalMs: number, generationMs: number): AskResponse {
    return { answer, found, sources, mode: this.mode, model: this.modelName, timings: { retrievalMs: round(retrievalMs), generationMs: round(generationMs) } };
  }
}
