import type { ChatMessage } from "../../core/openai-types.js";

/**
 * The text of one chat message as the model will read it: string content, the text of content
 * parts, and tool-call arguments (tool calls are model-visible text too). Non-text parts (images,
 * audio) contribute nothing: their size is bounded by the body limit, not by these guards.
 */
export function messageText(message: ChatMessage): string {
  const pieces: string[] = [];
  const content = message.content;
  if (typeof content === "string") pieces.push(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (typeof part?.text === "string") pieces.push(part.text);
      else if (typeof part?.refusal === "string") pieces.push(part.refusal);
    }
  }
  const toolCalls = message.tool_calls;
  if (Array.isArray(toolCalls)) {
    for (const call of toolCalls) {
      const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
      if (typeof fn?.arguments === "string") pieces.push(fn.arguments);
    }
  }
  return pieces.join("\n");
}

/** The system and developer messages' texts: what the operator wants kept private. */
export function systemPromptsOf(messages: readonly ChatMessage[]): string[] {
  return messages
    .filter((message) => message.role === "system" || message.role === "developer")
    .map(messageText)
    .filter((text) => text.length > 0);
}

/**
 * A cheap token estimate, meant to err high rather than low for limits: CJK and other wide scripts
 * about one token per character, other non-ASCII about one per two, ASCII about one per four.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let narrow = 0;
  let wide = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) ascii++;
    else if (unit >= 0xdc00 && unit <= 0xdfff)
      continue; // low surrogate: counted with its high half
    else if (unit >= 0x2e80) wide++;
    else narrow++;
  }
  return Math.ceil(ascii / 4) + Math.ceil(narrow / 2) + wide;
}
