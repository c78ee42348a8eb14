import { ModelportError, toModelportError } from "../../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk } from "../../core/openai-types.js";
import { type AttemptScope, callerAbortError, noop, raceWithSignal } from "./attempt-scope.js";
import type { CircuitBreaker } from "./circuit-breaker.js";
import type { ShadowSession } from "./shadow-runner.js";
import { type ChatStreamAssembler, createChatStreamAssembler } from "./stream-assembler.js";

/**
 * The stream handed to the caller once the router has committed to a target (its first chunk
 * arrived). It yields that first chunk, then pulls the rest from the upstream iterator. From here
 * on nothing is retried: an error is thrown to the consumer (who turns it into an OpenAI error
 * event), counted as a breaker failure when retryable, and reported through `onError`.
 *
 * Each `next()` races the upstream against the attempt's signal, so the total deadline and the
 * caller's abort end the stream even if a runtime ignores its signal. `return()` (a `break` in
 * `for await`) is passed to the upstream iterator so the runtime releases the request, and then
 * the attempt's signal is aborted for runtimes whose iterator has no `return`.
 */
export class CommittedStream implements AsyncIterableIterator<ChatCompletionChunk> {
  private first: ChatCompletionChunk | undefined;
  private finished = false;
  private readonly assembler: ChatStreamAssembler | undefined;

  constructor(
    first: ChatCompletionChunk,
    private readonly iterator: AsyncIterator<ChatCompletionChunk>,
    private readonly scope: AttemptScope,
    private readonly breaker: CircuitBreaker,
    private readonly caller: AbortSignal,
    private readonly shadow: ShadowSession<ChatCompletion> | undefined,
    private readonly onError: ((error: ModelportError) => void) | undefined,
  ) {
    this.first = first;
    if (shadow?.wantsPrimaryValue) {
      this.assembler = createChatStreamAssembler();
      this.assembler.add(first);
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ChatCompletionChunk, undefined>> {
    if (this.finished) return { done: true, value: undefined };
    const first = this.first;
    if (first !== undefined) {
      this.first = undefined;
      return { done: false, value: first };
    }
    let result: IteratorResult<ChatCompletionChunk>;
    try {
      result = await raceWithSignal(this.iterator.next(), this.scope.signal);
    } catch (thrown) {
      throw this.fail(thrown);
    }
    if (this.finished) return { done: true, value: undefined }; // return() ran while we waited
    if (result.done) {
      this.finished = true;
      this.scope.dispose();
      this.shadow?.primaryFinished(true, this.assembler?.result());
      return { done: true, value: undefined };
    }
    this.assembler?.add(result.value);
    return result;
  }

  async return(): Promise<IteratorResult<ChatCompletionChunk, undefined>> {
    if (this.finished) return { done: true, value: undefined };
    this.finished = true;
    this.shadow?.primaryFinished(false);
    try {
      await this.iterator.return?.();
    } finally {
      this.scope.abort(new ModelportError("MP_CLIENT_CLOSED", "the stream consumer stopped reading"));
    }
    return { done: true, value: undefined };
  }

  private fail(thrown: unknown): ModelportError {
    this.finished = true;
    this.scope.dispose();
    this.shadow?.primaryFinished(false);
    let error: ModelportError;
    if (this.caller.aborted) {
      error = callerAbortError(this.caller);
    } else {
      error = this.scope.timeoutError ?? toModelportError(thrown);
      if (error.isRetryable) this.breaker.recordFailure();
    }
    // When our race (deadline, caller) won, the upstream iterator may still be running.
    if (error !== thrown) releaseIterator(this.iterator);
    this.onError?.(error);
    return error;
  }
}

/** Asks an abandoned upstream iterator to release its request, without waiting or throwing. */
export function releaseIterator(iterator: AsyncIterator<unknown>): void {
  try {
    Promise.resolve(iterator.return?.()).catch(noop);
  } catch {
    // A synchronously throwing return() has nothing left for us to release.
  }
}
