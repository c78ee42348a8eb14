// A small HTTP/1.1 load generator on raw keep-alive sockets (no dependencies): one pre-built
// request per connection, responses parsed just enough to find their end (content-length or
// chunked). Closed loop (each connection sends again as soon as its answer is complete) or paced
// at a fixed total rate; a paced request's latency counts from when it was due, not when it was
// sent, so a slow answer that delays the next request is not hidden (no coordinated omission).
import { connect } from "node:net";

const headEnd = Buffer.from("\r\n\r\n");

/** Where the response in `buffer` ends, or -1 if it is not complete yet. */
function responseEnd(buffer) {
  const head = buffer.indexOf(headEnd);
  if (head < 0) return -1;
  const text = buffer.toString("latin1", 0, head);
  const bodyStart = head + 4;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
  if (length) {
    const end = bodyStart + Number(length[1]);
    return buffer.length >= end ? end : -1;
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(text)) return bodyStart; // no body (204, 304)
  let offset = bodyStart;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", offset, "latin1");
    if (lineEnd < 0) return -1;
    const size = Number.parseInt(buffer.toString("latin1", offset, lineEnd), 16);
    if (size === 0) {
      const end = buffer.indexOf(headEnd, lineEnd, "latin1");
      return end < 0 ? (buffer.length >= lineEnd + 4 ? lineEnd + 4 : -1) : end + 4;
    }
    offset = lineEnd + 2 + size + 2;
    if (offset > buffer.length) return -1;
  }
}

function statusOf(buffer) {
  return Number(buffer.toString("latin1", 9, 12));
}

/**
 * Runs for `durationMs` against http://host:port`path`. `rate` (total requests per second over all
 * connections) paces the load; without it every connection runs closed-loop. Returns counts and,
 * when `collectLatencies`, every 2xx latency in float milliseconds.
 */
export function runLoad({ host, port, path, headers, body, connections, durationMs, rate, collectLatencies }) {
  const payload = Buffer.from(body);
  const request = Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("")}content-length: ${payload.length}\r\n\r\n`,
      "latin1",
    ),
    payload,
  ]);
  const latencies = collectLatencies ? [] : undefined;
  const counts = { ok: 0, non2xx: 0, errors: 0 };
  const startedAt = performance.now();
  const endsAt = startedAt + durationMs;
  const interval = rate ? (1000 * connections) / rate : 0;

  return new Promise((resolve) => {
    let open = connections;
    const stops = [];
    // A server that stops answering must not hang the benchmark: give up 10 s after the end.
    const deadline = setTimeout(() => {
      for (const stop of stops) stop();
    }, durationMs + 10_000);
    const finished = () => {
      open -= 1;
      if (open > 0) return;
      clearTimeout(deadline);
      resolve({ ...counts, latencies, elapsedSeconds: (performance.now() - startedAt) / 1000 });
    };
    for (let index = 0; index < connections; index++) {
      // Paced connections start spread over one interval so the offered load is smooth.
      let due = startedAt + (interval * index) / connections;
      let socket;
      let buffer = Buffer.alloc(0);
      let timer;
      const send = () => {
        timer = undefined;
        if (performance.now() >= endsAt) return done();
        if (!interval) due = performance.now();
        socket.write(request);
      };
      const schedule = () => {
        if (!interval) return send();
        due += interval;
        const wait = due - performance.now();
        if (wait <= 0) send();
        else timer = setTimeout(send, wait);
      };
      let closed = false;
      const done = () => {
        if (closed) return;
        closed = true;
        if (timer) clearTimeout(timer);
        socket.destroy();
        finished();
      };
      stops.push(done);
      const connectSocket = () => {
        socket = connect({ host, port, noDelay: true });
        socket.on("connect", () => {
          if (!interval) return send();
          timer = setTimeout(send, Math.max(0, due - performance.now()));
        });
        socket.on("data", (chunk) => {
          buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
          const end = responseEnd(buffer);
          if (end < 0) return;
          const status = statusOf(buffer);
          buffer = buffer.subarray(end);
          if (status >= 200 && status < 300) {
            counts.ok += 1;
            latencies?.push(performance.now() - due);
          } else counts.non2xx += 1;
          schedule();
        });
        socket.on("error", () => {
          counts.errors += 1;
        });
        socket.on("close", () => {
          if (closed) return;
          if (performance.now() >= endsAt) return done();
          buffer = Buffer.alloc(0); // the server closed the connection: open another
          connectSocket();
        });
      };
      connectSocket();
    }
  });
}
