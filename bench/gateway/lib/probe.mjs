// Sequential probes with a raw node:http client (one keep-alive connection, one request in
// flight): time to first SSE chunk for streams, and the plain round trip plus Modelport's own
// x-modelport-overhead-ms header for non-streamed calls. Every response is checked, so a system
// that answers wrongly fails the run instead of looking fast.
import { Agent, request } from "node:http";

function once(agent, system, body, onFirstData) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = request(
      `${system.origin}${system.path}`,
      { method: "POST", agent, headers: { ...system.headers, "content-length": Buffer.byteLength(body) } },
      (res) => {
        let firstDataMs;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (part) => {
          if (firstDataMs === undefined && part.includes("data:")) {
            firstDataMs = performance.now() - startedAt;
            onFirstData?.();
          }
          text += part;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode,
            headers: res.headers,
            text,
            totalMs: performance.now() - startedAt,
            firstDataMs,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function check(system, response, stream) {
  if (response.status !== 200)
    throw new Error(`${system.label}: HTTP ${response.status}: ${response.text.slice(0, 300)}`);
  const ok = stream
    ? response.firstDataMs !== undefined && response.text.trimEnd().endsWith("data: [DONE]")
    : response.text.includes('"chat.completion"');
  if (!ok) throw new Error(`${system.label}: unexpected ${stream ? "stream" : "body"}: ${response.text.slice(0, 300)}`);
}

/** `count` sequential streamed requests: time to first data chunk, and the overhead header. */
export async function probeStreams(system, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ttft = [];
  const overheadHeader = [];
  try {
    for (let i = 0; i < count; i++) {
      const response = await once(agent, system, system.streamBody);
      check(system, response, true);
      ttft.push(response.firstDataMs);
      const header = response.headers["x-modelport-overhead-ms"];
      if (header !== undefined) overheadHeader.push(Number(header));
    }
  } finally {
    agent.destroy();
  }
  return { ttft, overheadHeader };
}

/** `count` sequential non-streamed requests: round-trip time, and the overhead header. */
export async function probeCalls(system, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latency = [];
  const overheadHeader = [];
  try {
    for (let i = 0; i < count; i++) {
      const response = await once(agent, system, system.body);
      check(system, response, false);
      latency.push(response.totalMs);
      const header = response.headers["x-modelport-overhead-ms"];
      if (header !== undefined) overheadHeader.push(Number(header));
    }
  } finally {
    agent.destroy();
  }
  return { latency, overheadHeader };
}
