/**
 * An incremental Server-Sent Events parser (WHATWG "event stream interpretation"), fed with text
 * as it arrives from the network. Events may be split anywhere across feeds, including between
 * the CR and LF of a CRLF. Only what OpenAI-compatible upstreams use is kept: `data` (multi-line
 * data joined with "\n") and `event`; `id` and `retry` are read and ignored, comments skipped.
 *
 * It works on strings, not bytes: decode the body with a streaming UTF-8 decoder first
 * (`readable.setEncoding("utf8")`), so a multi-byte character split across packets is whole.
 */
export interface SseEvent {
  /** The `event:` field, or "message" when absent. */
  event: string;
  data: string;
}

export interface SseParser {
  /** Parses a piece of the stream; returns the events completed by it (often none or one). */
  feed(text: string): SseEvent[];
  /**
   * Ends the stream. The spec discards an event that was not closed by a blank line; we are
   * lenient and dispatch it, because some upstreams end with `data: [DONE]\n` and no blank line.
   */
  end(): SseEvent[];
}

const CR = 13;
const SPACE = 32;

export function createSseParser(): SseParser {
  let pending = "";
  let data: string | undefined;
  let event = "";
  // A feed that ended in CR: a LF starting the next feed belongs to the same line break.
  let skipLeadingLf = false;
  // The field of a line, read without allocating for the common `data:` case.
  const processLine = (line: string, out: SseEvent[]): void => {
    if (line.length === 0) {
      if (data !== undefined) out.push({ event: event || "message", data });
      data = undefined;
      event = "";
      return;
    }
    if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === SPACE ? line.slice(6) : line.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
      return;
    }
    if (line.charCodeAt(0) === 58 /* ":" comment */) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === SPACE) value = value.slice(1);
    if (field === "data") data = data === undefined ? value : `${data}\n${value}`;
    else if (field === "event") event = value;
    // `id`, `retry` and unknown fields are ignored on purpose.
  };

  return {
    feed(text: string): SseEvent[] {
      const out: SseEvent[] = [];
      const buffer = pending.length === 0 ? text : pending + text;
      let start = 0;
      if (skipLeadingLf && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 10) start = 1;
        skipLeadingLf = false;
      }
      // Positions of the next LF and CR, recomputed only when passed (keeps the scan linear).
      let nextLf = buffer.indexOf("\n", start);
      let nextCr = buffer.indexOf("\r", start);
      while (nextLf !== -1 || nextCr !== -1) {
        const end = nextCr === -1 || (nextLf !== -1 && nextLf < nextCr) ? nextLf : nextCr;
        processLine(buffer.slice(start, end), out);
        if (buffer.charCodeAt(end) === CR) {
          if (end + 1 === buffer.length) {
            skipLeadingLf = true;
            start = end + 1;
          } else start = buffer.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
        } else start = end + 1;
        if (nextLf !== -1 && nextLf < start) nextLf = buffer.indexOf("\n", start);
        if (nextCr !== -1 && nextCr < start) nextCr = buffer.indexOf("\r", start);
      }
      pending = start === buffer.length ? "" : buffer.slice(start);
      return out;
    },
    end(): SseEvent[] {
      const out: SseEvent[] = [];
      if (pending.length > 0) processLine(pending, out);
      pending = "";
      processLine("", out);
      return out;
    },
  };
}
