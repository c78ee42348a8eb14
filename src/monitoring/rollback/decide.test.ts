import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LiveQuality } from "../feedback/types.js";
import { DEFAULT_CANARY_SLO, decideRollback, type TargetHealth } from "./decide.js";

const health = (
  requests: number,
  errors: number,
  p99Ms: number,
  labeled?: number,
  accuracy?: number,
): TargetHealth => ({
  requests: { requests, errors, errorRate: requests === 0 ? null : errors / requests, p99LatencyUs: p99Ms * 1000 },
  ...(labeled === undefined
    ? {}
    : {
        quality: {
          endpoint: "e",
          version: null,
          target: null,
          window: { from: "", to: "" },
          labeled,
          accuracy: accuracy ?? null,
          macroF1: null,
          thumbs: 0,
          thumbsUpRate: null,
          scored: 0,
          meanScore: null,
          truncated: false,
        } satisfies LiveQuality,
      }),
});

describe("decideRollback", () => {
  const slo = DEFAULT_CANARY_SLO;

  it("uses strict boundaries: exactly stable + 2 points, exactly 1.5×, exactly −0.05 are fine", () => {
    // 3 % vs 1 %: exactly the allowance.
    assert.equal(decideRollback(health(100, 3, 15), health(100, 1, 10), slo).rollback, false);
    assert.equal(decideRollback(health(100, 4, 15), health(100, 1, 10), slo).rollback, true);
    assert.equal(decideRollback(health(100, 0, 15.1), health(100, 0, 10), slo).rollback, true);
    assert.equal(decideRollback(health(100, 0, 1, 40, 0.875), health(100, 0, 1, 40, 0.925), slo).rollback, false);
    assert.equal(decideRollback(health(100, 0, 1, 40, 0.85), health(100, 0, 1, 40, 0.925), slo).rollback, true);
  });

  it("lists several reasons at once", () => {
    const decision = decideRollback(health(100, 50, 100, 40, 0.1), health(100, 0, 10, 40, 0.9), slo);
    assert.equal(decision.reasons.length, 3);
  });

  it("decides nothing on thin traffic or few labels on either side", () => {
    const thinCanary = decideRollback(health(49, 49, 999), health(100, 0, 10), slo);
    assert.equal(thinCanary.rollback, false);
    assert.equal(thinCanary.undecided.length, 1);
    const thinStable = decideRollback(health(100, 50, 10), health(10, 0, 10), slo);
    assert.equal(thinStable.rollback, false);
    const fewLabels = decideRollback(health(100, 0, 10, 29, 0), health(100, 0, 10, 100, 1), slo);
    assert.equal(fewLabels.rollback, false);
    assert.match(fewLabels.undecided.join(), /29 canary \/ 100 stable labels/);
  });
});
