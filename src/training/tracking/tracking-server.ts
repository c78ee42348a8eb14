import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ModelportError } from "../../core/errors.js";
import type { TrackingStore } from "./tracking-store.js";

/**
 * The tiny tracking API an external training program logs to while `modelport run` is running it
 * (MLflow-style, but three routes). Listens on 127.0.0.1 only and accepts only the runs it was
 * started for, so another local process cannot write into other runs.
 *
 *   POST /runs/{id}/metrics    {"name":"loss","value":0.3,"step":1}  or  {"metrics":[…]}
 *   POST /runs/{id}/params     {"lr":0.01}                           or  {"params":{…}}
 *   POST /runs/{id}/artifacts  {"path":"model.onnx"}  (relative to the program's working directory)
 *   GET  /runs/{id}            the run with its metrics and artifacts
 */
export interface TrackingServer {
  /** e.g. http://127.0.0.1:43117 */
  url: string;
  close(): Promise<void>;
}

export interface TrackingServerOptions {
  store: TrackingStore;
  tenantId: string;
  runIds: readonly string[];
  /** Artifact paths resolve against this directory. */
  baseDir: string;
}

const maxBody = 1 << 20;

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        reject(new ModelportError("MP_INVALID_REQUEST", "request body over 1 MiB"));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      try {
        resolve(chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(new ModelportError("MP_INVALID_REQUEST", "the body is not JSON", { cause: error }));
      }
    });
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function startTrackingServer(options: TrackingServerOptions): Promise<TrackingServer> {
  const { store, tenantId } = options;
  const allowed = new Set(options.runIds);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const match = /^\/runs\/([^/]+)(?:\/(metrics|params|artifacts))?\/?$/.exec(url.pathname);
    if (match === null) return send(response, 404, { error: { code: "MP_NOT_FOUND", message: "no such route" } });
    const runId = decodeURIComponent(match[1] as string);
    if (!allowed.has(runId))
      return send(response, 404, { error: { code: "MP_NOT_FOUND", message: `no run '${runId}' here` } });
    const what = match[2];
    if (what === undefined) {
      if (request.method !== "GET")
        return send(response, 405, { error: { code: "MP_INVALID_REQUEST", message: "GET only" } });
      return send(response, 200, await store.showRun(tenantId, runId));
    }
    if (request.method !== "POST")
      return send(response, 405, { error: { code: "MP_INVALID_REQUEST", message: "POST only" } });
    const body = await readBody(request);
    if (!isObject(body)) throw new ModelportError("MP_INVALID_REQUEST", "the body must be a JSON object");
    if (what === "metrics") {
      const list = Array.isArray(body.metrics) ? body.metrics : [body];
      for (const item of list) {
        if (!isObject(item)) throw new ModelportError("MP_INVALID_REQUEST", "each metric must be an object");
        await store.logMetric(tenantId, runId, {
          name: item.name as string,
          value: item.value as number,
          ...(item.step === undefined ? {} : { step: item.step as number }),
        });
      }
      return send(response, 200, { logged: list.length });
    }
    if (what === "params") {
      const params = isObject(body.params) ? body.params : body;
      await store.logParams(tenantId, runId, params);
      return send(response, 200, { logged: Object.keys(params).length });
    }
    if (typeof body.path !== "string" || body.path.length === 0)
      throw new ModelportError("MP_INVALID_REQUEST", "an artifact needs a path", { param: "path" });
    return send(response, 200, await store.logArtifact(tenantId, runId, { path: body.path, baseDir: options.baseDir }));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const known = error instanceof ModelportError;
      const status = known
        ? error.code === "MP_NOT_FOUND"
          ? 404
          : error.code === "MP_INVALID_REQUEST"
            ? 400
            : 500
        : 500;
      send(response, status, {
        error: {
          code: known ? error.code : "MP_INTERNAL",
          message: error instanceof Error ? error.message : String(error),
        },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
