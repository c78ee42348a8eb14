// The three systems under test, each started as its own child process: the mock upstream (which
// is also "direct", the baseline), Modelport in front of it (tenant key auth, metrics, access log
// and pricing all on, as in production), and Portkey's open-source gateway in front of it.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, spawnLogged, waitForHttp, waitForLog } from "./processes.mjs";

const messages = [{ role: "user", content: "Say hello in one short sentence." }];

function bodies(model) {
  return {
    body: JSON.stringify({ model, messages }),
    streamBody: JSON.stringify({ model, messages, stream: true }),
  };
}

export async function startMock({ benchDir, workDir, chunks, intervalMs }) {
  const proc = spawnLogged(
    process.execPath,
    [join(benchDir, "mock-upstream.mjs"), "--chunks", String(chunks), "--interval-ms", String(intervalMs)],
    { cwd: benchDir, env: process.env, logFile: join(workDir, "mock.log") },
  );
  const [, port] = await waitForLog(proc, /\{"port":(\d+)\}/);
  const origin = `http://127.0.0.1:${port}`;
  return {
    name: "direct",
    label: "direct to mock",
    proc,
    origin,
    upstreamBaseUrl: `${origin}/v1`,
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
    ...bodies("gpt-4o-mini"),
  };
}

export async function startModelport({ repoRoot, workDir, upstreamBaseUrl, nodeArgs = [], configPatch = {} }) {
  const port = await freePort();
  const adminToken = `bench-admin-${randomBytes(16).toString("hex")}`;
  const configFile = join(workDir, "modelport.json");
  // The config from the issue, plus pricing so the metering path has prices to apply. Logging
  // stays at its defaults (info, one access-log line per request) as a deployment would run it.
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        logging: { level: "info", ...configPatch.logging },
        providers: { mock: { type: "openai", baseUrl: upstreamBaseUrl, apiKey: "sk-bench" } },
        endpoints: {
          chat: {
            kind: "chat",
            targets: [{ provider: "mock", model: "gpt-4o-mini" }],
            pricing: { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 },
          },
        },
      },
      null,
      2,
    ),
  );
  const proc = spawnLogged(
    process.execPath,
    [
      ...nodeArgs,
      join(repoRoot, "bin/modelport.js"),
      "--compiled", // as `npm start` runs it: dist/ from scripts/build.mjs, no tsx loader
      "serve",
      "--config",
      configFile,
      "--port",
      String(port),
      "--data-dir",
      join(workDir, "modelport-data"),
    ],
    {
      cwd: workDir,
      env: { ...process.env, MODELPORT_ADMIN_TOKEN: adminToken, NODE_ENV: "production" },
      logFile: join(workDir, "modelport.log"),
    },
  );
  const [, origin] = await waitForLog(proc, /listening on (http:\/\/\S+)/);

  const admin = async (path, body) => {
    const response = await fetch(`${origin}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`admin ${path}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  const tenant = await admin("/admin/v1/tenants", { name: "bench" });
  const { key } = await admin(`/admin/v1/tenants/${tenant.id}/keys`, {});

  return {
    name: "modelport",
    label: "Modelport",
    proc,
    origin,
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    ...bodies("chat"),
  };
}

export async function startPortkey({ benchDir, workDir, upstreamBaseUrl }) {
  const port = await freePort();
  const proc = spawnLogged(
    process.execPath,
    [join(benchDir, "node_modules/@portkey-ai/gateway/build/start-server.js"), `--port=${port}`, "--headless"],
    // production: no UI and no in-process log capture, i.e. Portkey's lightest Node setup.
    { cwd: workDir, env: { ...process.env, NODE_ENV: "production" }, logFile: join(workDir, "portkey.log") },
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, `${origin}/`);
  return {
    name: "portkey",
    label: "Portkey gateway",
    proc,
    origin,
    path: "/v1/chat/completions",
    headers: {
      "content-type": "application/json",
      authorization: "Bearer sk-bench",
      "x-portkey-provider": "openai",
      "x-portkey-custom-host": upstreamBaseUrl,
    },
    ...bodies("gpt-4o-mini"),
  };
}
