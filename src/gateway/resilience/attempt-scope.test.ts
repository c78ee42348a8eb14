import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { AttemptScope, callerAbortError, createSleep, raceWithSignal } from "./attempt-scope.js";
import { createFakeTime, settle } from "./testing/fake-time.js";

const timeouts = { connectMs: 10, firstByteMs: 100, totalMs: 1_000 };

describe("AttemptScope", () => {
  it("aborts its signal with MP_UPSTREAM_TIMEOUT when the deadline fires", async () => {
    const time = createFakeTime();
    const scope = new AttemptScope(new AbortController().signal, time.timers, "req_1", timeouts);
    scope.arm(500, "did not answer");
    assert.equal(scope.context.requestId, "req_1");
    assert.equal(scope.context.timeouts, timeouts);
    await time.advance(499);
    assert.equal(scope.signal.aborted, false);
    await time.advance(1);
    assert.equal(scope.signal.aborted, true);
    assert.ok(scope.timeoutError instanceof ModelportError);
    assert.equal(scope.timeoutError.code, "MP_UPSTREAM_TIMEOUT");
    assert.equal(scope.signal.reason, scope.timeoutError);
    assert.equal(scope.timeoutError.message, "upstream did not answer within 500 ms");
  });

  it("follows the caller's abort, and stops following after dispose", () => {
    const time = createFakeTime();
    const caller = new AbortController();
    const scope = new AttemptScope(caller.signal, time.timers, "r", timeouts);
    caller.abort(new Error("gone"));
    assert.equal(scope.signal.aborted, true);
    assert.equal(scope.timeoutError, undefined);

    const caller2 = new AbortController();
    const scope2 = new AttemptScope(caller2.signal, time.timers, "r", timeouts);
    scope2.arm(10, "x");
    scope2.dispose();
    caller2.abort();
    assert.equal(scope2.signal.aborted, false);
    assert.equal(time.pendingTimers(), 0, "dispose clears the deadline timer");
  });

  it("starts aborted when the caller already aborted", () => {
    const caller = new AbortController();
    caller.abort();
    const scope = new AttemptScope(caller.signal, createFakeTime().timers, "r", timeouts);
    assert.equal(scope.signal.aborted, true);
  });

  it("re-arming replaces the previous deadline", async () => {
    const time = createFakeTime();
    const scope = new AttemptScope(undefined, time.timers, "r", timeouts);
    scope.arm(100, "first");
    await time.advance(50);
    scope.arm(100, "second");
    await time.advance(60);
    assert.equal(scope.signal.aborted, false);
    await time.advance(40);
    assert.equal(scope.timeoutError?.message, "upstream second within 100 ms");
    assert.equal(time.pendingTimers(), 0);
  });
});

describe("raceWithSignal", () => {
  it("resolves with the promise when it wins", async () => {
    assert.equal(await raceWithSignal(Promise.resolve(3), new AbortController().signal), 3);
  });

  it("rejects with the abort reason when the signal fires first, absorbing the late settlement", async () => {
    const controller = new AbortController();
    let rejectLate: (error: Error) => void = () => {};
    const hanging = new Promise<number>((_, reject) => {
      rejectLate = reject;
    });
    const raced = raceWithSignal(hanging, controller.signal);
    const reason = new Error("deadline");
    controller.abort(reason);
    await assert.rejects(raced, (error) => error === reason);
    rejectLate(new Error("late")); // must not surface as an unhandled rejection
    await settle();
  });

  it("rejects at once for an already aborted signal", async () => {
    const controller = new AbortController();
    controller.abort(new Error("before"));
    await assert.rejects(raceWithSignal(Promise.reject(new Error("ignored")), controller.signal), /before/);
  });
});

describe("createSleep", () => {
  it("waits on the injected timers and rejects promptly on abort", async () => {
    const time = createFakeTime();
    const sleep = createSleep(time.timers);
    let done = false;
    const waiting = sleep(1_000, new AbortController().signal).then(() => {
      done = true;
    });
    await time.advance(999);
    assert.equal(done, false);
    await time.advance(1);
    await waiting;
    assert.equal(done, true);

    const controller = new AbortController();
    const aborted = sleep(1_000, controller.signal);
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    assert.equal(time.pendingTimers(), 0);
  });
});

describe("callerAbortError", () => {
  it("passes ModelportError reasons through and classifies the rest", () => {
    const draining = new ModelportError("MP_SHUTTING_DOWN", "bye");
    const controller = new AbortController();
    controller.abort(draining);
    assert.equal(callerAbortError(controller.signal), draining);

    const plain = new AbortController();
    plain.abort();
    assert.equal(callerAbortError(plain.signal).code, "MP_CLIENT_CLOSED");

    const deadline = new AbortController();
    deadline.abort(new DOMException("deadline", "TimeoutError"));
    const error = callerAbortError(deadline.signal);
    assert.equal(error.code, "MP_UPSTREAM_TIMEOUT");
    assert.equal(error.isRetryable, false);
  });
});
