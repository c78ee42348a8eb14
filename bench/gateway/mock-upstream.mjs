// A minimal OpenAI-compatible upstream for the gateway benchmark: one fixed chat completion, and
// one fixed SSE stream whose first chunk is written the moment the request body has arrived (so
// time-to-first-token measures the gateways, not the mock) and whose remaining chunks follow at
// a fixed interval (so a gateway that buffers a stream instead of passing chunks on shows up).
//
// Runs in its own process so it never shares an event loop with the load generator or a gateway.
// Usage: node mock-upstream.mjs [--port N] [--chunks N] [--interval-ms N]
// Prints one JSON line {"port":N} on stdout once listening.
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    chunks: { type: "string", default: "5" },
    "interval-ms": { type: "string", default: "1" },
  },
});
const chunkCount = Math.max(1, Number(values.chunks));
const intervalMs = Math.max(0, Number(values["interval-ms"]));

const completion = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4o-mini",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: "Hello! This is a fixed completion from the benchmark mock." },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 12, total_tokens: 24 },
  }),
);

function chunk(delta, finishReason) {
  const event = {
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(event)}\n\n`;
}

// chunks[0] carries the role and the first token; the last content chunk carries finish_reason.
const streamChunks = [];
for (let i = 0; i < chunkCount; i++) {
  const delta = i === 0 ? { role: "assistant", content: "Hello" } : { content: ` token${i}` };
  streamChunks.push(chunk(delta, i === chunkCount - 1 ? "stop" : null));
}
const usageChunk = `data: ${JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion.chunk",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [],
  usage: { prompt_tokens: 12, completion_tokens: chunkCount, total_tokens: 12 + chunkCount },
})}\n\n`;
const streamTail = `${usageChunk}data: [DONE]\n\n`;

function sendStream(res) {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
  });
  res.write(streamChunks[0]);
  let next = 1;
  const tick = () => {
    if (res.destroyed) return;
    if (next < streamChunks.length) {
      res.write(streamChunks[next++]);
      setTimeout(tick, intervalMs);
    } else {
      res.end(streamTail);
    }
  };
  setTimeout(tick, intervalMs);
}

const server = createServer((req, res) => {
  if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
    req.resume();
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
    return;
  }
  const parts = [];
  req.on("data", (part) => parts.push(part));
  req.on("end", () => {
    // A substring test keeps the mock cheap; every client in the benchmark sends compact JSON.
    const body = Buffer.concat(parts).toString();
    if (/"stream"\s*:\s*true/.test(body)) return sendStream(res);
    res.writeHead(200, { "content-type": "application/json", "content-length": completion.length });
    res.end(completion);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
