import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletionChunk, CompletionUsage } from "../../core/openai-types.js";
import type { ChatStream } from "../../core/runtime.js";
import type { CallDeadline } from "./call-deadline.js";
import { extractUpstreamMessage, redact, transportError } from "./errors.js";
import { createSseParser, type SseEvent } from "./sse-parser.js";

/**
 * A ChatStream from an OpenAI-compatible upstream. Besides `chunks` it exposes `usage()`: the
 * runtime always asks the upstream for usage (`stream_options.include_usage`) so Modelport can
 * meter, but passes the usage-only chunk on only when the caller asked for it. Read `usage()`
 * after the iteration ends; it is undefined when the upstream reported none or the stream broke.
 *
 * Errors from the iterator are ModelportErrors. Mid-stream failures (truncation, socket error,
 * an `error` event) are MP_UPSTREAM_ERROR and retryable by code; whether a retry is still
 * possible (nothing sent to the client yet) is the gateway's call.
 */
export interface OpenAIHttpChatStream extends ChatStream {
  usage(): CompletionUsage | undefined;
}

export interface UpstreamChatStreamOptions {
  /** The response body (undici's Readable), not yet read. */
  body: Readable;
  deadline: CallDeadline;
  /** Whether the caller asked for `stream_options.include_usage`. */
  callerWantsUsage: boolean;
  apiKey: string | undefined;
}

const DONE = "[DONE]";
const ignore = (): undefined => undefined;

/**
 * Reads SSE from the body one network chunk at a time, only when the consumer asks for the next
 * chat chunk, so a slow client slows the upstream (undici pauses the socket once the body's
 * 64 KiB buffer is full) instead of buffering without bound.
 */
export function createUpstreamChatStream(options: UpstreamChatStreamOptions): OpenAIHttpChatStream {
  const { body, deadline, callerWantsUsage, apiKey } = options;
  // undici's body ignores setEncoding; a StringDecoder keeps characters split across packets whole.
  const decoder = new StringDecoder("utf8");
  const source = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const parser = createSseParser();
  let usage: CompletionUsage | undefined;
  let events: SseEvent[] = [];
  let eventIndex = 0;
  let state: "open" | "done" | "failed" = "open";
  let sourceEnded = false;

  /**
   * Destroys the body, which aborts the request: undici closes the socket and the upstream sees
   * the client go away, so it can stop generating. Done on the body itself because the source
   * iterator is a generator that, if never started, would ignore return(). undici's destroy
   * emits an abort error; the listener keeps it from becoming an uncaught exception.
   */
  const release = (): void => {
    if (!body.destroyed) {
      body.on("error", ignore);
      body.destroy();
    }
    source.return?.().catch(ignore);
  };

  const fail = (error: ModelportError): never => {
    state = "failed";
    deadline.done();
    // Stops the upstream if it is still sending (e.g. an error event mid-stream).
    release();
    throw error;
  };

  /**
   * After [DONE] the upstream ends the response (usually in the same packet). Reading that end
   * lets undici put the connection back in the pool; it happens in the background so that the
   * consumer never waits on it, and an upstream that keeps the response open after [DONE] is
   * cut off by the call's deadline.
   */
  const drainAfterDone = async (): Promise<void> => {
    try {
      for (;;) {
        const step = await source.next();
        if (step.done) break;
      }
    } catch {
      // the stream was complete for the consumer; a late socket error only costs the connection
    } finally {
      deadline.done();
    }
  };

  /** Turns one SSE event into a chunk to yield, or undefined to skip it. */
  const handleEvent = (event: SseEvent): ChatCompletionChunk | undefined => {
    const { data } = event;
    // Named events other than errors (keep-alive pings some proxies add) carry no chunk.
    if (event.event !== "message" && event.event !== "error") return undefined;
    if (data === DONE) {
      state = "done";
      void drainAfterDone();
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (cause) {
      return fail(
        new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "upstream sent a stream event that is not JSON", { cause }),
      );
    }
    if (!parsed || typeof parsed !== "object") {
      return fail(new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "upstream sent a stream event that is not an object"));
    }
    const chunk = parsed as ChatCompletionChunk & { error?: unknown };
    if (chunk.error !== undefined || event.event === "error") {
      const message = redact(extractUpstreamMessage(data) ?? "unknown error", apiKey);
      return fail(
        new ModelportError("MP_UPSTREAM_ERROR", `upstream failed mid-stream: ${message}`, {
          cause: new Error(redact(data, apiKey).slice(0, 2000)),
        }),
      );
    }
    if (!Array.isArray(chunk.choices)) {
      return fail(new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "upstream stream chunk has no choices array"));
    }
    if (chunk.usage) {
      usage = chunk.usage;
      if (!callerWantsUsage) {
        if (chunk.choices.length === 0) return undefined;
        chunk.usage = undefined;
      }
    }
    return chunk;
  };

  const iterator: AsyncIterableIterator<ChatCompletionChunk> = {
    async next(): Promise<IteratorResult<ChatCompletionChunk>> {
      for (;;) {
        while (eventIndex < events.length && state === "open") {
          const event = events[eventIndex++] as SseEvent;
          const chunk = handleEvent(event);
          if (chunk) return { done: false, value: chunk };
        }
        if (state !== "open") return { done: true, value: undefined };
        if (sourceEnded) {
          return fail(new ModelportError("MP_UPSTREAM_ERROR", "upstream stream ended before [DONE]"));
        }
        let step: IteratorResult<Buffer>;
        try {
          step = await source.next();
        } catch (error) {
          // return() was called while this read waited: the consumer asked to stop, not an error.
          if (state !== "open") return { done: true, value: undefined };
          return fail(transportError(error, "response"));
        }
        if (step.done) {
          sourceEnded = true;
          const rest = decoder.end();
          events = rest.length > 0 ? [...parser.feed(rest), ...parser.end()] : parser.end();
          eventIndex = 0;
          continue;
        }
        events = parser.feed(decoder.write(step.value));
        eventIndex = 0;
      }
    },
    async return(): Promise<IteratorResult<ChatCompletionChunk>> {
      if (state === "open") {
        state = "done";
        release();
        deadline.done();
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  return {
    chunks: iterator,
    usage: () => usage,
  };
}
