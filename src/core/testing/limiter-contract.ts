import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  AdmissionDecision,
  AdmissionRequest,
  AdmissionScope,
  AdmissionTicket,
  RateLimiter,
} from "../../commerce/limits/limiter.js";
import { ModelportError } from "../errors.js";

/**
 * The one contract every RateLimiter adapter passes (in-memory, Redis). The subject says how time
 * passes: a fake clock advances at once, a real one (Redis TIME) is slept through, so the
 * Redis run uses a short window. Every test works on its own fresh scope keys.
 */
export interface LimiterContractSubject {
  limiter: RateLimiter;
  /** The limiter's window and slot (it was built with them). */
  windowMs: number;
  slotMs: number;
  /** Lets `ms` milliseconds pass for the limiter. */
  advance(ms: number): Promise<void>;
  /** Wall time as the limiter sees it, for the sliding-window check (fake or real). */
  now(): number;
  /** How far `now()` may be from the limiter's own clock (0 for a fake clock). */
  clockToleranceMs: number;
  dispose?: () => Promise<void>;
}

type Allowed = Extract<AdmissionDecision, { allowed: true }>;
type Refused = Extract<AdmissionDecision, { allowed: false }>;

let scopeCounter = 0;
function freshKey(label: string): string {
  scopeCounter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${scopeCounter}`;
}

function request(scopes: AdmissionScope[], estimatedTokens = 0): AdmissionRequest {
  return { scopes, estimatedTokens };
}

function expectAllowed(decision: AdmissionDecision, message?: string): Allowed {
  assert.equal(decision.allowed, true, message ?? `expected admission, got ${JSON.stringify(decision)}`);
  return decision as Allowed;
}

function expectRefused(decision: AdmissionDecision, message?: string): Refused {
  assert.equal(decision.allowed, false, message ?? "expected a refusal");
  return decision as Refused;
}

async function countAdmitted(limiter: RateLimiter, make: () => AdmissionRequest, attempts: number) {
  let admittedCount = 0;
  const tickets: AdmissionTicket[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    const decision = await limiter.admit(make());
    if (decision.allowed) {
      admittedCount += 1;
      tickets.push(decision.ticket);
    }
  }
  return { admitted: admittedCount, tickets };
}

export function limiterContractSuite(name: string, makeSubject: () => Promise<LimiterContractSubject>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let subject: LimiterContractSubject;
    before(async () => {
      subject = await makeSubject();
    });
    after(async () => {
      await subject?.limiter.close();
      await subject?.dispose?.();
    });

    describe("requests per minute", () => {
      it("admits exactly the limit in a window, then refuses with reason requests", async () => {
        const key = freshKey("rpm");
        const scopes = [{ key, limits: { requestsPerMinute: 5 } }];
        const { admitted } = await countAdmitted(subject.limiter, () => request(scopes), 9);
        assert.equal(admitted, 5);
        const refused = expectRefused(await subject.limiter.admit(request(scopes)));
        assert.equal(refused.reason, "requests");
        assert.equal(refused.scope, key);
        assert.equal(refused.exceedsLimit, false);
        assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= subject.windowMs + subject.slotMs);
      });

      it("gives the full limit back once the window has passed", async () => {
        const scopes = [{ key: freshKey("rpm-refill"), limits: { requestsPerMinute: 4 } }];
        assert.equal((await countAdmitted(subject.limiter, () => request(scopes), 6)).admitted, 4);
        await subject.advance(subject.windowMs + subject.slotMs);
        assert.equal((await countAdmitted(subject.limiter, () => request(scopes), 6)).admitted, 4);
      });

      it("never admits more than the limit in any window under steady pressure, and keeps admitting", async () => {
        const limit = 6;
        const scopes = [{ key: freshKey("rpm-sliding"), limits: { requestsPerMinute: limit } }];
        const step = Math.max(1, Math.floor(subject.slotMs / 3));
        // With a real clock the limiter's decision time lies between `before` and `after`; a window
        // is flagged only when the admissions certainly fall inside it.
        const admissions: { before: number; after: number }[] = [];
        const end = subject.now() + 3 * subject.windowMs;
        while (subject.now() < end) {
          const before = subject.now();
          if ((await subject.limiter.admit(request(scopes))).allowed) admissions.push({ before, after: subject.now() });
          await subject.advance(step);
        }
        const span = subject.windowMs - subject.clockToleranceMs;
        admissions.forEach((first, index) => {
          const inWindow = admissions.slice(index).filter((later) => later.after < first.before + span).length;
          assert.ok(inWindow <= limit, `${inWindow} admissions within ${span} ms from ${first.before}`);
        });
        // Three windows of pressure: the limit comes back each window (minus the slot granularity).
        assert.ok(admissions.length >= 2 * limit + 1, `only ${admissions.length} admissions in three windows`);
      });
    });

    describe("tokens per minute", () => {
      it("reserves the estimate, and settle refunds the unused part", async () => {
        const key = freshKey("tpm");
        const scopes = [{ key, limits: { tokensPerMinute: 1_000 } }];
        const first = expectAllowed(await subject.limiter.admit(request(scopes, 400)));
        assert.equal(first.headers.remainingTokens, 600);
        expectAllowed(await subject.limiter.admit(request(scopes, 400)));
        const refused = expectRefused(await subject.limiter.admit(request(scopes, 400)));
        assert.equal(refused.reason, "tokens");
        assert.equal(refused.headers.remainingTokens, 200);
        await subject.limiter.settle(first.ticket, { tokens: 100 }); // 300 of 400 come back
        const third = expectAllowed(await subject.limiter.admit(request(scopes, 400)));
        assert.equal(third.headers.remainingTokens, 1_000 - 100 - 400 - 400);
      });

      it("settle charges an overshoot, and remaining never goes below zero", async () => {
        const scopes = [{ key: freshKey("tpm-over"), limits: { tokensPerMinute: 1_000 } }];
        const first = expectAllowed(await subject.limiter.admit(request(scopes, 100)));
        await subject.limiter.settle(first.ticket, { tokens: 1_500 });
        const refused = expectRefused(await subject.limiter.admit(request(scopes, 0)));
        assert.equal(refused.reason, "tokens", "an exhausted token limit refuses even a zero estimate");
        assert.equal(refused.headers.remainingTokens, 0);
        assert.equal(refused.headers.limitTokens, 1_000);
      });

      it("settles a ticket once: a second settle or release changes nothing", async () => {
        const scopes = [{ key: freshKey("tpm-once"), limits: { tokensPerMinute: 1_000, concurrency: 1 } }];
        const first = expectAllowed(await subject.limiter.admit(request(scopes, 500)));
        await subject.limiter.settle(first.ticket, { tokens: 200 });
        await subject.limiter.settle(first.ticket, { tokens: 0 });
        await subject.limiter.release(first.ticket);
        const second = expectAllowed(await subject.limiter.admit(request(scopes, 100)));
        assert.equal(second.headers.remainingTokens, 1_000 - 200 - 100);
        // The concurrency slot was freed once, so the cap of 1 is held by `second` now.
        assert.equal(expectRefused(await subject.limiter.admit(request(scopes, 1))).reason, "concurrency");
        await subject.limiter.release(second.ticket);
      });

      it("refuses an estimate larger than the whole limit as exceedsLimit", async () => {
        const key = freshKey("tpm-huge");
        const refused = expectRefused(
          await subject.limiter.admit(request([{ key, limits: { tokensPerMinute: 100 } }], 101)),
        );
        assert.equal(refused.reason, "tokens");
        assert.equal(refused.exceedsLimit, true);
        assert.equal(refused.scope, key);
        assert.equal(refused.headers.remainingTokens, 100, "nothing was charged");
      });

      it("release refunds the whole reservation", async () => {
        const scopes = [{ key: freshKey("tpm-release"), limits: { tokensPerMinute: 1_000 } }];
        const first = expectAllowed(await subject.limiter.admit(request(scopes, 900)));
        await subject.limiter.release(first.ticket);
        const second = expectAllowed(await subject.limiter.admit(request(scopes, 900)));
        assert.equal(second.headers.remainingTokens, 100);
      });
    });

    describe("concurrency", () => {
      it("caps requests in flight and frees a slot on release and on settle", async () => {
        const key = freshKey("conc");
        const scopes = [{ key, limits: { concurrency: 2 } }];
        const first = expectAllowed(await subject.limiter.admit(request(scopes)));
        const second = expectAllowed(await subject.limiter.admit(request(scopes)));
        const refused = expectRefused(await subject.limiter.admit(request(scopes)));
        assert.equal(refused.reason, "concurrency");
        assert.equal(refused.scope, key);
        assert.ok(refused.retryAfterMs > 0);
        await subject.limiter.release(first.ticket);
        await subject.limiter.release(first.ticket); // a double release must not free a second slot
        const third = expectAllowed(await subject.limiter.admit(request(scopes)));
        expectRefused(await subject.limiter.admit(request(scopes)));
        await subject.limiter.settle(second.ticket, { tokens: 10 });
        expectAllowed(await subject.limiter.admit(request(scopes)));
        expectRefused(await subject.limiter.admit(request(scopes)));
        await subject.limiter.release(third.ticket);
      });
    });

    describe("several scopes", () => {
      it("charges nothing when one scope refuses (requests)", async () => {
        const keyScope = { key: freshKey("key"), limits: { requestsPerMinute: 10 } };
        const tenantScope = { key: freshKey("tenant"), limits: { requestsPerMinute: 2 } };
        const { admitted } = await countAdmitted(subject.limiter, () => request([keyScope, tenantScope]), 5);
        assert.equal(admitted, 2);
        const refused = expectRefused(await subject.limiter.admit(request([keyScope, tenantScope])));
        assert.equal(refused.scope, tenantScope.key);
        assert.equal(refused.reason, "requests");
        const keyOnly = expectAllowed(await subject.limiter.admit(request([keyScope])));
        assert.equal(keyOnly.headers.remainingRequests, 10 - 2 - 1, "refused admissions did not charge the key");
      });

      it("charges nothing when one scope refuses (tokens and concurrency)", async () => {
        const keyScope = { key: freshKey("key"), limits: { tokensPerMinute: 1_000, concurrency: 1 } };
        const tenantScope = { key: freshKey("tenant"), limits: { tokensPerMinute: 100 } };
        const first = expectAllowed(await subject.limiter.admit(request([keyScope, tenantScope], 60)));
        await subject.limiter.settle(first.ticket, { tokens: 60 });
        const refused = expectRefused(await subject.limiter.admit(request([keyScope, tenantScope], 60)));
        assert.equal(refused.scope, tenantScope.key);
        assert.equal(refused.reason, "tokens");
        // Had the refusal reserved 60 tokens or taken the key's only slot, this would fail.
        const keyOnly = expectAllowed(await subject.limiter.admit(request([keyScope], 0)));
        assert.equal(keyOnly.headers.remainingTokens, 1_000 - 60);
        await subject.limiter.release(keyOnly.ticket);
      });

      it("reports the tightest scope in the headers", async () => {
        const keyScope = { key: freshKey("key"), limits: { requestsPerMinute: 100, tokensPerMinute: 500 } };
        const tenantScope = { key: freshKey("tenant"), limits: { requestsPerMinute: 3, tokensPerMinute: 10_000 } };
        const decision = expectAllowed(await subject.limiter.admit(request([keyScope, tenantScope], 50)));
        assert.equal(decision.headers.limitRequests, 3);
        assert.equal(decision.headers.remainingRequests, 2);
        assert.equal(decision.headers.limitTokens, 500);
        assert.equal(decision.headers.remainingTokens, 450);
      });

      it("keeps different keys independent", async () => {
        const a = [{ key: freshKey("a"), limits: { requestsPerMinute: 2 } }];
        const b = [{ key: freshKey("b"), limits: { requestsPerMinute: 2 } }];
        assert.equal((await countAdmitted(subject.limiter, () => request(a), 4)).admitted, 2);
        assert.equal((await countAdmitted(subject.limiter, () => request(b), 4)).admitted, 2);
      });

      it("admits a request with no scopes without accounting", async () => {
        const decision = expectAllowed(await subject.limiter.admit(request([], 10)));
        assert.deepEqual(decision.headers, {});
        await subject.limiter.settle(decision.ticket, { tokens: 20 });
      });
    });

    describe("retry-after and headers", () => {
      it("a request retried after retryAfterMs is admitted (requests)", async () => {
        const scopes = [{ key: freshKey("retry"), limits: { requestsPerMinute: 3 } }];
        await countAdmitted(subject.limiter, () => request(scopes), 3);
        const refused = expectRefused(await subject.limiter.admit(request(scopes)));
        await subject.advance(refused.retryAfterMs);
        expectAllowed(await subject.limiter.admit(request(scopes)), "admitted after waiting retryAfterMs");
      });

      it("a request retried after retryAfterMs is admitted (tokens, with two scopes)", async () => {
        const scopes = [
          { key: freshKey("retry-key"), limits: { tokensPerMinute: 100 } },
          { key: freshKey("retry-tenant"), limits: { requestsPerMinute: 50, tokensPerMinute: 1_000 } },
        ];
        expectAllowed(await subject.limiter.admit(request(scopes, 60)));
        const refused = expectRefused(await subject.limiter.admit(request(scopes, 60)));
        assert.equal(refused.reason, "tokens");
        assert.equal(refused.scope, scopes[0]?.key);
        await subject.advance(refused.retryAfterMs);
        expectAllowed(await subject.limiter.admit(request(scopes, 60)));
      });

      it("reports limits, remaining and reset times", async () => {
        const scopes = [{ key: freshKey("headers"), limits: { requestsPerMinute: 10, tokensPerMinute: 1_000 } }];
        const decision = expectAllowed(await subject.limiter.admit(request(scopes, 100)));
        const { headers } = decision;
        assert.equal(headers.limitRequests, 10);
        assert.equal(headers.remainingRequests, 9);
        assert.equal(headers.limitTokens, 1_000);
        assert.equal(headers.remainingTokens, 900);
        for (const reset of [headers.resetRequestsMs, headers.resetTokensMs]) {
          assert.ok(reset !== undefined);
          assert.ok(
            reset > subject.windowMs - 2 * subject.clockToleranceMs && reset <= subject.windowMs + subject.slotMs,
            `reset ${reset} ms`,
          );
        }
        const onlyConcurrency = expectAllowed(
          await subject.limiter.admit(request([{ key: freshKey("no-rate"), limits: { concurrency: 5 } }])),
        );
        assert.deepEqual(onlyConcurrency.headers, {}, "no rate limit, no rate headers");
        await subject.limiter.release(onlyConcurrency.ticket);
      });
    });

    describe("concurrent admissions", () => {
      it("N parallel admissions admit exactly the limit (requests, tokens, concurrency)", async () => {
        const rpm = [{ key: freshKey("par-rpm"), limits: { requestsPerMinute: 15 } }];
        const tpm = [{ key: freshKey("par-tpm"), limits: { tokensPerMinute: 1_000 } }];
        const cap = [{ key: freshKey("par-cap"), limits: { concurrency: 7 } }];
        const run = async (scopes: AdmissionScope[], estimate: number) => {
          const decisions = await Promise.all(
            Array.from({ length: 40 }, () => subject.limiter.admit(request(scopes, estimate))),
          );
          return decisions.filter((decision) => decision.allowed).length;
        };
        const [requests, tokens, concurrency] = await Promise.all([run(rpm, 0), run(tpm, 100), run(cap, 0)]);
        assert.equal(requests, 15);
        assert.equal(tokens, 10);
        assert.equal(concurrency, 7);
      });
    });

    describe("bad input", () => {
      it("rejects duplicate scopes, bad limits and bad token counts", async () => {
        const key = freshKey("bad");
        const bad: AdmissionRequest[] = [
          request([
            { key, limits: { requestsPerMinute: 1 } },
            { key, limits: { requestsPerMinute: 1 } },
          ]),
          request([{ key, limits: { requestsPerMinute: 0 } }]),
          request([{ key, limits: { tokensPerMinute: 1.5 } }]),
          request([{ key, limits: { concurrency: -1 } }]),
          request([{ key, limits: { requestsPerMinute: Number.NaN } }]),
          request([{ key, limits: { requestsPerMinute: 1 } }], -1),
          request([{ key: "", limits: { requestsPerMinute: 1 } }]),
        ];
        for (const input of bad) {
          await assert.rejects(subject.limiter.admit(input), ModelportError, JSON.stringify(input));
        }
        const good = expectAllowed(await subject.limiter.admit(request([{ key, limits: { requestsPerMinute: 1 } }])));
        await assert.rejects(subject.limiter.settle(good.ticket, { tokens: -5 }), ModelportError);
        await assert.rejects(subject.limiter.settle(good.ticket, { tokens: 1.25 }), ModelportError);
      });
    });
  });
}
