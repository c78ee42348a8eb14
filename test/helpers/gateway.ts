import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSettings } from "../../src/config/settings.js";
import { type RunningServer, startServer } from "../../src/server/start-server.js";

export const testAdminToken = "test-admin-token-0123456789";

export interface TestGateway {
  url: string;
  server: RunningServer;
  dataDir: string;
  adminToken: string;
  /** A key of tenant `acme`, created through the admin API. */
  apiKey: string;
  tenantId: string;
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Calls the gateway with the tenant key. */
  call(path: string, body?: unknown, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the real server in this process (same composition root as `modelport serve`) on a free
 * port with its own data dir, a tenant and a key. `config` is written to a YAML/JSON file so the
 * file loader runs too.
 */
export async function startTestGateway(
  config: Record<string, unknown>,
  options: {
    databaseUrl?: string;
    env?: Record<string, string>;
    /** Runs on the fresh data dir before the server starts (e.g. to register models). */
    prepare?: (dataDir: string) => Promise<void>;
  } = {},
): Promise<TestGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), "modelport-test-"));
  await options.prepare?.(dataDir);
  const configPath = join(dataDir, "modelport.json");
  const withQuietLogs = { logging: { level: "silent" }, ...config };
  await writeFile(configPath, JSON.stringify(withQuietLogs));
  const settings = resolveSettings(
    { config: configPath, port: 0, dataDir },
    {
      MODELPORT_ADMIN_TOKEN: testAdminToken,
      ...(options.databaseUrl ? { MODELPORT_DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    },
  );
  const server = await startServer(settings);
  const url = server.url;
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${testAdminToken}`, "content-type": "application/json", ...init.headers },
    });
  const tenantResponse = await admin("/admin/v1/tenants", { method: "POST", body: JSON.stringify({ name: "acme" }) });
  const tenant = (await tenantResponse.json()) as { id: string };
  const keyResponse = await admin(`/admin/v1/tenants/${tenant.id}/keys`, { method: "POST", body: "{}" });
  const { key } = (await keyResponse.json()) as { key: string };
  return {
    url,
    server,
    dataDir,
    adminToken: testAdminToken,
    apiKey: key,
    tenantId: tenant.id,
    admin,
    call: (path, body, init = {}) =>
      fetch(`${url}${path}`, {
        method: body === undefined ? "GET" : "POST",
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        ...init,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers },
      }),
    async close() {
      await server.shutdown("test finished");
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads an SSE response into its parsed `data:` events (the final `[DONE]` as the string "[DONE]"). */
export async function readSseEvents(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .map((block) => block.trim())
    .filter((block) => block.startsWith("data: "))
    .map((block) => {
      const data = block.slice("data: ".length);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}
