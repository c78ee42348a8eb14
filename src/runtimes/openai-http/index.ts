export type { OpenAIHttpChatStream } from "./chat-stream.js";
export { createOpenAIHttpRuntime, type OpenAIHttpRuntime, type OpenAIHttpRuntimeOptions } from "./runtime.js";
