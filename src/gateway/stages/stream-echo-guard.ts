import type { ChatCompletionChunk } from "../../core/openai-types.js";
import type { StreamAnswerGuard } from "../../core/privacy.js";

/**
 * The system-prompt echo check on a streamed answer. Each chunk's content deltas go through the
 * guard before the chunk is passed on, so an echo split across chunks is caught as soon as its
 * last character arrives:
 *   - flag: the chunk is delivered and the finding reported (it lands in the request log's guard
 *     verdicts);
 *   - block: the chunk that completed the echo is withheld and the stream ends with the guard's
 *     error (chatChunksToSse turns a thrown error into OpenAI's stream error event), so no
 *     further echo text reaches the caller.
 * It runs on the upstream's chunks, before pseudonyms are restored, like the non-streamed check.
 */
export async function* guardStreamedAnswer(
  chunks: AsyncIterable<ChatCompletionChunk>,
  guard: StreamAnswerGuard,
  onFindings: (findings: unknown[]) => void,
): AsyncGenerator<ChatCompletionChunk> {
  let reported = 0;
  const report = (findings: unknown[]) => {
    if (findings.length <= reported) return;
    reported = findings.length;
    onFindings(findings);
  };
  for await (const chunk of chunks) {
    for (const choice of chunk.choices) {
      const delta = choice.delta?.content;
      if (typeof delta !== "string" || delta.length === 0) continue;
      const result = guard.push(choice.index, delta);
      report(result.findings);
      if (result.verdict === "block") throw result.error ?? new Error("the answer was stopped by a guard");
    }
    yield chunk;
  }
  const final = guard.finish();
  report(final.findings);
  // An echo completed by the last partial word: the text is out, but the stream still ends in an
  // error instead of [DONE], so the client knows the answer was not accepted.
  if (final.verdict === "block") throw final.error ?? new Error("the answer was stopped by a guard");
}
