import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { AdmissionRequest, AdmissionTicket, RateLimiter } from "../src/commerce/limits/limiter.js";
import { createRedisLimiter } from "../src/commerce/limits/redis-limiter.js";
import { deleteKeys, probeRedis, reportRedisUnavailable } from "../src/commerce/limits/testing/redis-test-support.js";
import { randomId } from "../src/core/ids.js";

/**
 * Cross-process exactness at the limiter level: two child processes, each with its own Redis
 * connection, hammer the same scopes at once (25 admissions in flight each); the admissions they
 * report add up to the limit exactly. This file is also the child: run with LIMITER_WORKER=1 it
 * waits for "go" on stdin, runs the phases and prints its counts as one JSON line.
 */

const limits = { requests: 150, tokens: 5_000, tokenEstimate: 37, concurrency: 30, tenantRequests: 120 };

async function hammer(limiter: RateLimiter, make: () => AdmissionRequest, attempts: number, hold: AdmissionTicket[]) {
  let admitted = 0;
  let next = 0;
  const lane = async () => {
    while (next < attempts) {
      next += 1;
      const decision = await limiter.admit(make());
      if (decision.allowed) {
        admitted += 1;
        hold.push(decision.ticket);
      }
    }
  };
  await Promise.all(Array.from({ length: 25 }, lane));
  return admitted;
}

const phases = 4;

async function runWorker(): Promise<void> {
  const index = process.env.LIMITER_WORKER_INDEX ?? "0";
  const limiter = createRedisLimiter({
    url: process.env.LIMITER_REDIS_URL as string,
    prefix: process.env.LIMITER_PREFIX,
  });
  await limiter.admit({ scopes: [{ key: `warm-${index}`, limits: { requestsPerMinute: 1 } }], estimatedTokens: 0 });
  // Before each phase both workers say "ready" and wait for the parent's "go", so every phase
  // really races the two processes instead of letting the faster one finish it alone.
  const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const barrier = async () => {
    process.stdout.write("ready\n");
    await input.next();
  };

  await barrier();

  const held: AdmissionTicket[] = [];
  const requests = await hammer(
    limiter,
    () => ({ scopes: [{ key: "tenant:rpm", limits: { requestsPerMinute: limits.requests } }], estimatedTokens: 0 }),
    300,
    [],
  );
  await barrier();
  const tokenTickets: AdmissionTicket[] = [];
  const tokens = await hammer(
    limiter,
    () => ({
      scopes: [{ key: "tenant:tpm", limits: { tokensPerMinute: limits.tokens } }],
      estimatedTokens: limits.tokenEstimate,
    }),
    200,
    tokenTickets,
  );
  // Settling with the estimate changes nothing, so the count stays floor(limit / estimate).
  await Promise.all(tokenTickets.map((ticket) => limiter.settle(ticket, { tokens: limits.tokenEstimate })));
  await barrier();
  const concurrency = await hammer(
    limiter,
    () => ({ scopes: [{ key: "tenant:conc", limits: { concurrency: limits.concurrency } }], estimatedTokens: 0 }),
    100,
    held,
  );
  await barrier();
  const ownKey = { key: `key:${index}`, limits: { requestsPerMinute: 1_000 } };
  const tenant = await hammer(
    limiter,
    () => ({
      scopes: [ownKey, { key: "tenant:shared", limits: { requestsPerMinute: limits.tenantRequests } }],
      estimatedTokens: 0,
    }),
    150,
    [],
  );
  const probe = await limiter.admit({ scopes: [ownKey], estimatedTokens: 0 });
  await Promise.all(held.map((ticket) => limiter.release(ticket)));
  await limiter.close();
  input.return?.();
  process.stdout.write(
    `${JSON.stringify({ requests, tokens, concurrency, tenant, ownKeyRemaining: probe.headers.remainingRequests })}\n`,
  );
}

interface WorkerReport {
  requests: number;
  tokens: number;
  concurrency: number;
  tenant: number;
  ownKeyRemaining: number;
}

function startWorker(index: number, url: string, prefix: string) {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    env: {
      ...process.env,
      LIMITER_WORKER: "1",
      LIMITER_WORKER_INDEX: String(index),
      LIMITER_REDIS_URL: url,
      LIMITER_PREFIX: prefix,
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  lines.on("line", (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const queued = queue.shift();
      if (queued !== undefined) return resolve(queued);
      waiters.push(resolve);
      child.once("exit", (code) => reject(new Error(`worker ${index} exited with ${code}`)));
    });
  return { child, nextLine };
}

if (process.env.LIMITER_WORKER === "1") {
  await runWorker();
} else {
  const probe = await probeRedis();
  if (probe.state !== "ready") {
    reportRedisUnavailable("Redis rate limiter across two processes", probe);
  } else {
    const prefix = `{mp-test-limits-2p-${randomId("run", 10)}}`;
    after(async () => {
      const admin = new Redis(probe.url);
      await deleteKeys(admin, prefix);
      admin.disconnect();
    });

    describe("Redis limiter across two processes", () => {
      it("admits exactly the limit in total when two processes hammer the same scopes", async () => {
        const workers = [startWorker(1, probe.url, prefix), startWorker(2, probe.url, prefix)];
        try {
          for (let phase = 0; phase < phases; phase++) {
            for (const worker of workers) assert.equal(await worker.nextLine(), "ready");
            for (const worker of workers) worker.child.stdin?.write("go\n");
          }
          const reports = (await Promise.all(workers.map((worker) => worker.nextLine()))).map(
            (line) => JSON.parse(line) as WorkerReport,
          );
          const sum = (field: keyof WorkerReport) => reports.reduce((total, report) => total + report[field], 0);
          assert.equal(sum("requests"), limits.requests);
          assert.equal(sum("tokens"), Math.floor(limits.tokens / limits.tokenEstimate));
          assert.equal(sum("concurrency"), limits.concurrency);
          assert.equal(sum("tenant"), limits.tenantRequests);
          // Both processes got admissions in several phases (the test really raced them; a phase with a
          // small limit can go entirely to whichever process its first burst reached first), and the
          // refusals by the shared tenant scope charged nothing to each process's own key.
          for (const report of reports) {
            const phasesWithAdmissions = [report.requests, report.tokens, report.concurrency, report.tenant].filter(
              (count) => count > 0,
            ).length;
            assert.ok(phasesWithAdmissions >= 2, JSON.stringify(report));
            assert.equal(report.ownKeyRemaining, 1_000 - report.tenant - 1);
          }
        } finally {
          for (const worker of workers) worker.child.kill();
        }
      });
    });
  }
}
