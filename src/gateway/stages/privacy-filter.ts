import type { Context } from "hono";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage } from "../../core/openai-types.js";
import type { PrivacyFilters, RequestPrivacyFilter, StreamRestorer } from "../../core/privacy.js";
import type { GatewayEnv } from "../context.js";

/**
 * The PII stage for chat: rewrites the messages per the tenant's/endpoint's policy before they
 * leave (pseudonymize, redact), refuses blocked types with 400, keeps a masked copy of the prompt
 * for stored logs, and restores pseudonyms in the answer, streamed or not.
 */
export function filterChatMessages(
  c: Context<GatewayEnv>,
  filters: PrivacyFilters | undefined,
  endpoint: string,
  messages: ChatMessage[],
  /** Keep a (masked) copy of the prompt for stored payloads; off unless `requestLog.payloads`. */
  capturePayloads: boolean,
): { messages: ChatMessage[]; filter: RequestPrivacyFilter | undefined } {
  const principal = c.get("principal");
  const filter = filters && principal ? filters.forRequest(principal.tenantName, endpoint) : undefined;
  if (!filter) {
    if (capturePayloads)
      c.set("promptLogText", JSON.stringify(messages.map((message) => [message.role, message.content])));
    return { messages, filter };
  }
  const blocked = new Set<string>();
  const found = new Set<string>();
  const logged: unknown[] = [];
  const apply = (text: string): string => {
    const result = filter.inbound(text);
    for (const type of result.blockedTypes ?? []) blocked.add(type);
    for (const type of result.foundTypes) found.add(type);
    logged.push(result.logText);
    return result.text;
  };
  const rewritten = messages.map((message) => {
    if (typeof message.content === "string") return { ...message, content: apply(message.content) };
    if (Array.isArray(message.content))
      return {
        ...message,
        content: message.content.map((part) =>
          typeof part.text === "string" ? { ...part, text: apply(part.text) } : part,
        ),
      };
    return message;
  });
  if (capturePayloads) c.set("promptLogText", JSON.stringify(logged));
  if (found.size > 0) c.set("piiFound", [...found]);
  if (blocked.size > 0)
    throw new ModelportError(
      "MP_PII_BLOCKED",
      `the request contains data this endpoint does not accept: ${[...blocked].sort().join(", ")}`,
      { param: "messages" },
    );
  return { messages: rewritten, filter };
}

/** Restores pseudonyms in a whole answer. */
export function restoreCompletion(
  completion: ChatCompletion,
  filter: RequestPrivacyFilter | undefined,
): ChatCompletion {
  if (!filter) return completion;
  return {
    ...completion,
    choices: completion.choices.map((choice) =>
      typeof choice.message.content === "string"
        ? { ...choice, message: { ...choice.message, content: filter.restore(choice.message.content) } }
        : choice,
    ),
  };
}

/** Restores pseudonyms chunk by chunk; a placeholder split across chunks is held back until whole. */
export async function* restoreChunks(
  chunks: AsyncIterable<ChatCompletionChunk>,
  filter: RequestPrivacyFilter,
): AsyncGenerator<ChatCompletionChunk> {
  const restorers = new Map<number, StreamRestorer>();
  const restorer = (index: number) => {
    let found = restorers.get(index);
    if (!found) {
      found = filter.restoreStream();
      restorers.set(index, found);
    }
    return found;
  };
  for await (const chunk of chunks) {
    yield {
      ...chunk,
      choices: chunk.choices.map((choice) => {
        const content =
          typeof choice.delta.content === "string" ? restorer(choice.index).push(choice.delta.content) : undefined;
        // The end of a choice releases whatever its restorer still holds.
        const tail = choice.finish_reason ? restorer(choice.index).flush() : "";
        if (content === undefined && tail === "") return choice;
        return { ...choice, delta: { ...choice.delta, content: (content ?? "") + tail } };
      }),
    };
  }
}

/** The answer as stored payloads may keep it: PII masked per policy, or nothing when payloads are off. */
export function answerForLog(
  answer: string,
  filter: RequestPrivacyFilter | undefined,
  capturePayloads: boolean,
): string | undefined {
  if (!capturePayloads) return undefined;
  return filter ? filter.inbound(answer).logText : answer;
}
