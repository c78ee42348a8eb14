import { createServer, type IncomingHttpHeaders } from "node:http";

/** One webhook call as received: the raw body (for signature checks), its signature header, all headers. */
export interface WebhookDelivery {
  body: string;
  signature: string;
  headers?: IncomingHttpHeaders;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/hook` */
  url: string;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback standing in for a customer's webhook endpoint: every POST is
 * answered 204 and appended to `into` (the test's own array, so assertions read it directly).
 */
export async function startWebhookReceiver(into: WebhookDelivery[]): Promise<WebhookReceiver> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      into.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: String(request.headers["x-modelport-signature"] ?? ""),
        headers: request.headers,
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
