import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { type EndpointRoute, validateRoute } from "./route.js";
import { completion, FakeUpstream, makeRoute, target } from "./testing/fake-upstream.js";

const upstream = new FakeUpstream({ chat: async () => completion("x") });
const valid = () => makeRoute({ targets: [target("p/a", upstream, 3), target("p/b", upstream, 1)] });

function rejects(route: EndpointRoute, pattern: RegExp): void {
  assert.throws(
    () => validateRoute(route),
    (error: unknown) => {
      assert.ok(error instanceof ModelportError);
      assert.equal(error.code, "MP_CONFIG_INVALID");
      assert.match(error.message, /^endpoint "chat-small": /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("validateRoute", () => {
  it("accepts a well-formed route, including a fallback that repeats a target", () => {
    validateRoute(valid());
    validateRoute({ ...valid(), fallbacks: [target("p/a", upstream)] });
  });

  it("rejects routes without a positive weight or with duplicate weighted ids", () => {
    rejects({ ...valid(), targets: [] }, /at least one target/);
    rejects({ ...valid(), targets: [target("p/a", upstream, 0)] }, /weight 0/);
    rejects({ ...valid(), targets: [target("p/a", upstream, -2)] }, /weights must be finite/);
    rejects({ ...valid(), targets: [target("p/a", upstream), target("p/a", upstream)] }, /"p\/a" is listed twice/);
  });

  it("rejects bad shadows, retry, timeout and breaker settings, naming the field", () => {
    rejects({ ...valid(), shadows: [{ target: target("p/s", upstream), sampleRate: 1.5 }] }, /sampleRate/);
    rejects({ ...valid(), retry: { ...valid().retry, maxAttempts: 0 } }, /retry\.maxAttempts/);
    rejects({ ...valid(), retry: { ...valid().retry, maxDelayMs: Number.NaN } }, /retry\.maxDelayMs/);
    rejects({ ...valid(), timeouts: { ...valid().timeouts, totalMs: 0 } }, /timeouts\.totalMs/);
    rejects({ ...valid(), breaker: { ...valid().breaker, failureThreshold: 0 } }, /breaker\.failureThreshold/);
    rejects({ ...valid(), breaker: { ...valid().breaker, halfOpenMaxRequests: 2.5 } }, /breaker\.halfOpenMaxRequests/);
    rejects({ ...valid(), fallbacks: [target("", upstream)] }, /needs an id/);
  });
});
