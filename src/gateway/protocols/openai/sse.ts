import { toModelportError } from "../../../core/errors.js";
import type { ChatCompletionChunk } from "../../../core/openai-types.js";
import { openaiErrorBody } from "../../http-errors.js";

const encoder = new TextEncoder();
const done = encoder.encode("data: [DONE]\n\n");

export const sseHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/**
 * Turns a stream of chunks into OpenAI's SSE wire format. Pull-based: the next chunk is requested
 * from the model only when the client's socket has taken the previous one, so a slow client slows
 * the upstream instead of filling memory. A client that goes away cancels the stream, which ends
 * the upstream call. An error after the first chunk ends the stream with an error event in
 * OpenAI's shape (the official clients raise it as an APIError).
 */
export function chatChunksToSse(
  chunks: AsyncIterable<ChatCompletionChunk>,
  hooks: {
    onChunk?: (chunk: ChatCompletionChunk) => void;
    /** Runs (and is awaited) after the last chunk and before `[DONE]`: billing is durable before the client sees the end. */
    beforeDone?: () => Promise<void>;
    onEnd?: (error: unknown) => void;
  } = {},
): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  let finished = false;
  const finish = (error: unknown) => {
    if (finished) return;
    finished = true;
    hooks.onEnd?.(error);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: ended, value } = await iterator.next();
          if (ended) {
            await hooks.beforeDone?.();
            controller.enqueue(done);
            controller.close();
            finish(undefined);
            return;
          }
          hooks.onChunk?.(value);
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(value)}\n\n`));
        } catch (thrown) {
          const error = toModelportError(thrown, "MP_UPSTREAM_ERROR");
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(openaiErrorBody(error))}\n\n`));
          controller.close();
          finish(error);
        }
      },
      async cancel() {
        finish(new Error("client closed the stream"));
        await iterator.return?.();
      },
    },
    { highWaterMark: 1 },
  );
}
