import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSseParser, type SseEvent } from "./sse-parser.js";

/** Feeds the pieces one by one and collects every event, ending the stream when asked. */
function parse(pieces: string[], end = true): SseEvent[] {
  const parser = createSseParser();
  const events: SseEvent[] = [];
  for (const piece of pieces) events.push(...parser.feed(piece));
  if (end) events.push(...parser.end());
  return events;
}

const openaiStream =
  'data: {"id":"a","choices":[{"delta":{"role":"assistant"}}]}\n\n' +
  'data: {"id":"a","choices":[{"delta":{"content":"Hé llo"}}]}\n\n' +
  "data: [DONE]\n\n";

describe("createSseParser", () => {
  it("parses an OpenAI stream fed in one piece", () => {
    const events = parse([openaiStream]);
    assert.deepEqual(
      events.map((event) => event.data),
      [
        '{"id":"a","choices":[{"delta":{"role":"assistant"}}]}',
        '{"id":"a","choices":[{"delta":{"content":"Hé llo"}}]}',
        "[DONE]",
      ],
    );
    assert.ok(events.every((event) => event.event === "message"));
  });

  it("gives the same events whatever the split points, one character at a time included", () => {
    const whole = parse([openaiStream]);
    for (let cut = 1; cut < openaiStream.length; cut++) {
      assert.deepEqual(parse([openaiStream.slice(0, cut), openaiStream.slice(cut)]), whole, `cut at ${cut}`);
    }
    assert.deepEqual(parse([...openaiStream]), whole);
  });

  it("dispatches an event only once its blank line arrives", () => {
    const parser = createSseParser();
    assert.deepEqual(parser.feed("data: one"), []);
    assert.deepEqual(parser.feed("\n"), []);
    assert.deepEqual(parser.feed("\n"), [{ event: "message", data: "one" }]);
  });

  it("accepts CRLF and lone CR line endings, including a CRLF split across feeds", () => {
    const crlf = "data: a\r\n\r\ndata: b\r\n\r\n";
    assert.deepEqual(
      parse([crlf]).map((event) => event.data),
      ["a", "b"],
    );
    assert.deepEqual(
      parse(["data: a\r", "\n\r", "\ndata: b\r", "\n", "\r\n"]).map((event) => event.data),
      ["a", "b"],
    );
    assert.deepEqual(
      parse(["data: a\r\rdata: b\r\r"]).map((event) => event.data),
      ["a", "b"],
    );
  });

  it("a CR at the end of one feed followed by a non-LF starts a new line", () => {
    // "data: a\r" then "\r" is a blank line (event a); a CRLF must not be assumed.
    assert.deepEqual(
      parse(["data: a\r", "\rdata: b\n\n"]).map((event) => event.data),
      ["a", "b"],
    );
  });

  it("skips comments (keep-alive pings) and ignores id and retry", () => {
    const events = parse([": ping\n\n:another\nid: 7\nretry: 1000\ndata: x\n\n"]);
    assert.deepEqual(events, [{ event: "message", data: "x" }]);
  });

  it("joins multi-line data with newlines and keeps the event name", () => {
    const events = parse(["event: error\ndata: first\ndata:second\ndata:  two spaces\n\n"]);
    assert.deepEqual(events, [{ event: "error", data: "first\nsecond\n two spaces" }]);
  });

  it("treats a field line without colon as a field with an empty value", () => {
    assert.deepEqual(parse(["data\n\n"]), [{ event: "message", data: "" }]);
  });

  it("dispatches nothing for a blank line without data, and clears the event name there", () => {
    const events = parse(["\n\n\nevent: ping\n\ndata: y\n\n"]);
    assert.deepEqual(events, [{ event: "message", data: "y" }]);
  });

  it("dispatches an unterminated final event at end (lenient), and nothing when there is none", () => {
    assert.deepEqual(
      parse(["data: [DONE]"]).map((event) => event.data),
      ["[DONE]"],
    );
    assert.deepEqual(
      parse(["data: [DONE]\n"]).map((event) => event.data),
      ["[DONE]"],
    );
    assert.deepEqual(parse(["data: a\n\n"], true), [{ event: "message", data: "a" }]);
    assert.deepEqual(parse([": only a comment\n"]), []);
  });

  it("keeps data containing colons and JSON intact", () => {
    const data = '{"url":"http://x:1/a","t":"a:b"}';
    assert.deepEqual(parse([`data: ${data}\n\n`]), [{ event: "message", data }]);
  });
});
