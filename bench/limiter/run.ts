/**
 * Rate limiter decision cost: µs per admit+settle pair, in memory and on Redis (one caller in
 * sequence, and 50 in flight on one connection), against a bare Redis PING measured in the same
 * run as the physical floor (an admit+settle pair is two round trips, so the fair reference is
 * two PINGs). Also reports Redis's own CPU time per script call from INFO commandstats.
 *
 *   node --import tsx bench/limiter/run.ts [--runs 5] [--redis redis://127.0.0.1:6379]
 *
 * Each figure is the median of --runs runs. Without --redis the benchmark starts its own
 * `redis-server` on a free port, so other clients of a shared Redis neither slow it down nor
 * show up in its command statistics. Keys go under a fresh prefix and are deleted after.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import type { AdmissionRequest, RateLimiter } from "../../src/commerce/limits/limiter.js";
import { createMemoryLimiter } from "../../src/commerce/limits/memory-limiter.js";
import { createRedisLimiter } from "../../src/commerce/limits/redis-limiter.js";
import { deleteKeys, startPrivateRedis } from "../../src/commerce/limits/testing/redis-test-support.js";
import { randomId } from "../../src/core/ids.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    redis: { type: "string" },
  },
});
const runs = Number(values.runs);
const privateRedis = values.redis === undefined ? await startPrivateRedis() : undefined;
const redisUrl = values.redis ?? (privateRedis?.url as string);

/** A typical request: a key scope (rpm, tpm, concurrency) and a tenant scope (rpm, tpm), never refused. */
function typicalRequest(keyIndex: number): AdmissionRequest {
  return {
    scopes: [
      {
        key: `key:k${keyIndex}`,
        limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000, concurrency: 1_000_000 },
      },
      { key: "tenant:t1", limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 } },
    ],
    estimatedTokens: 300,
  };
}

async function pair(limiter: RateLimiter, keyIndex: number): Promise<void> {
  const decision = await limiter.admit(typicalRequest(keyIndex));
  if (!decision.allowed) throw new Error(`benchmark request refused: ${decision.reason}`);
  await limiter.settle(decision.ticket, { tokens: 250 });
}

/** Runs `total` operations over `lanes` concurrent loops; returns wall µs per operation. */
async function measure(total: number, lanes: number, operation: (index: number) => Promise<unknown>) {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < total) {
        const index = next++;
        await operation(index);
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1_000 / total;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function scriptStats(client: Redis): Promise<{ calls: number; usec: number }> {
  const info = await client.info("commandstats");
  const line = info.split("\n").find((entry) => entry.startsWith("cmdstat_evalsha:"));
  const calls = Number(/calls=(\d+)/.exec(line ?? "")?.[1] ?? 0);
  const usec = Number(/usec=(\d+)/.exec(line ?? "")?.[1] ?? 0);
  return { calls, usec };
}

const results: Record<string, number[]> = {};
const record = (name: string, value: number) => {
  results[name] ??= [];
  results[name].push(value);
};

const prefix = `{mp-bench-limits-${randomId("run", 8)}}`;
const admin = new Redis(redisUrl);
const redisLimiter = createRedisLimiter({ url: redisUrl, prefix });
const pingClient = new Redis(redisUrl);
let keyCursor = 0;

try {
  // Warm up: JIT, connections, the script cache.
  const warmMemory = createMemoryLimiter();
  await measure(20_000, 1, (index) => pair(warmMemory, index % 100));
  await measure(500, 1, (index) => pair(redisLimiter, index % 100));
  await measure(500, 1, () => pingClient.ping());

  // The floor of any script call: EVALSHA of `return 1` (argument parsing, Lua entry and exit).
  const emptySha = (await pingClient.script("LOAD", "return 1")) as string;

  for (let run = 0; run < runs; run++) {
    const memory = createMemoryLimiter();
    record("memory, 1 caller, 100 keys", await measure(200_000, 1, (index) => pair(memory, index % 100)));
    record("memory, 1 caller, 100 000 keys", await measure(200_000, 1, (index) => pair(memory, index % 100_000)));
    await memory.close();

    record("redis PING, 1 caller", await measure(3_000, 1, () => pingClient.ping()));
    const before = await scriptStats(admin);
    record("redis admit+settle, 1 caller", await measure(3_000, 1, () => pair(redisLimiter, keyCursor++ % 1_000)));
    const afterSequential = await scriptStats(admin);
    // Server-side µs per limiter script call (admit and settle alike), measured during the
    // sequential run only: the empty-script reference below runs after this snapshot.
    record(
      "redis server µs per script call",
      (afterSequential.usec - before.usec) / Math.max(1, afterSequential.calls - before.calls),
    );
    record("redis EVALSHA return 1, 1 caller", await measure(3_000, 1, () => pingClient.evalsha(emptySha, 0)));
    record("redis PING, 50 in flight", await measure(20_000, 50, () => pingClient.ping()));
    record(
      "redis admit+settle, 50 in flight",
      await measure(20_000, 50, () => pair(redisLimiter, keyCursor++ % 1_000)),
    );
  }

  const value = (name: string) => median(results[name] ?? []);
  const rows: [string, number, string][] = [
    ["memory, 1 caller, 100 keys", value("memory, 1 caller, 100 keys"), ""],
    ["memory, 1 caller, 100 000 keys", value("memory, 1 caller, 100 000 keys"), ""],
    ["redis PING, 1 caller (reference)", value("redis PING, 1 caller"), "1 round trip"],
    [
      "redis admit+settle, 1 caller",
      value("redis admit+settle, 1 caller"),
      `${(value("redis admit+settle, 1 caller") / (2 * value("redis PING, 1 caller"))).toFixed(2)}× two PINGs`,
    ],
    ["redis EVALSHA of `return 1`, 1 caller", value("redis EVALSHA return 1, 1 caller"), "scripting floor"],
    ["redis PING, 50 in flight (reference)", value("redis PING, 50 in flight"), "1 round trip"],
    [
      "redis admit+settle, 50 in flight",
      value("redis admit+settle, 50 in flight"),
      `${(value("redis admit+settle, 50 in flight") / (2 * value("redis PING, 50 in flight"))).toFixed(2)}× two PINGs`,
    ],
    ["redis server time per script call", value("redis server µs per script call"), "INFO commandstats"],
  ];
  const cpu = cpus()[0]?.model ?? "unknown";
  const server = (await admin.info("server")).match(/redis_version:(\S+)/)?.[1] ?? "?";
  console.log(
    `limiter benchmark: node ${process.version}, ${cpus().length} CPUs (${cpu}), redis ${server} ` +
      `(${privateRedis ? "private, same host" : redisUrl}), median of ${runs} runs`,
  );
  console.log("| scenario | µs per admit+settle (or per PING) | reference |");
  console.log("| --- | ---: | --- |");
  for (const [name, micros, note] of rows) console.log(`| ${name} | ${micros.toFixed(2)} | ${note} |`);
  console.log(
    `memory decisions/s (100 keys): ${Math.round(1e6 / value("memory, 1 caller, 100 keys")).toLocaleString("en-US")} pairs; ` +
      `redis pairs/s at 50 in flight: ${Math.round(1e6 / value("redis admit+settle, 50 in flight")).toLocaleString("en-US")}`,
  );
} finally {
  await redisLimiter.close();
  pingClient.disconnect();
  await deleteKeys(admin, prefix);
  admin.disconnect();
  await privateRedis?.kill();
}
