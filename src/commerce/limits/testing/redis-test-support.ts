import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { test } from "node:test";
import { Redis } from "ioredis";

/**
 * Redis for the limiter's integration tests. CI requires Redis, so an unreachable server is a
 * FAILURE, not a silent skip; `MODELPORT_TEST_SKIP_REDIS=1` skips on purpose (and says so).
 * Tests that must break Redis (NOSCRIPT after a flush, an outage) start a private `redis-server`
 * on a free port instead of disturbing the shared one.
 */
export const defaultRedisUrl = "redis://127.0.0.1:6379";

export function testRedisUrl(): string {
  const fromEnvironment = process.env.MODELPORT_TEST_REDIS_URL?.trim();
  return fromEnvironment ? fromEnvironment : defaultRedisUrl;
}

export type RedisProbe =
  | { state: "ready"; url: string }
  | { state: "skipped"; reason: string }
  | { state: "unreachable"; message: string };

export async function probeRedis(url = testRedisUrl()): Promise<RedisProbe> {
  if (process.env.MODELPORT_TEST_SKIP_REDIS === "1")
    return { state: "skipped", reason: "MODELPORT_TEST_SKIP_REDIS=1 is set" };
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
    return { state: "ready", url };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      state: "unreachable",
      message: `Redis is required for this suite but ${url} is unreachable (${reason}). Start it, point MODELPORT_TEST_REDIS_URL at a server, or set MODELPORT_TEST_SKIP_REDIS=1 to skip.`,
    };
  } finally {
    client.disconnect();
  }
}

export function reportRedisUnavailable(suite: string, probe: Exclude<RedisProbe, { state: "ready" }>): void {
  if (probe.state === "skipped") {
    console.warn(`skipping ${suite}: ${probe.reason}`);
    test(suite, { skip: probe.reason }, () => {});
    return;
  }
  test(`${suite}: Redis is reachable`, () => {
    assert.fail(probe.message);
  });
}

/** Deletes every key under a prefix (SCAN, never KEYS, so a shared server is not blocked). */
export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1_000);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys);
  } while (cursor !== "0");
  return deleted;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: an outage, not a shutdown). */
  kill(): Promise<void>;
}

/** A throwaway `redis-server` without persistence, for tests that flush or kill it. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (is it installed?): ${error.message}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  let exited: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => {
      exited ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      });
      return exited;
    },
  };
}
