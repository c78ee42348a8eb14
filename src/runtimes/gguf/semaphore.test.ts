import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSemaphore } from "./semaphore.js";

describe("semaphore", () => {
  it("grants up to its permits, then serves waiters first come, first served", async () => {
    const semaphore = createSemaphore(2);
    const first = await semaphore.acquire();
    const second = await semaphore.acquire();
    const order: number[] = [];
    const track = (n: number) => (release: () => void) => {
      order.push(n);
      return release;
    };
    const third = semaphore.acquire().then(track(3));
    const fourth = semaphore.acquire().then(track(4));
    assert.equal(semaphore.inUse, 2);
    assert.equal(semaphore.waiting, 2);
    second();
    first();
    (await third)();
    (await fourth)();
    assert.deepEqual(order, [3, 4]);
    assert.equal(semaphore.inUse, 0);
  });

  it("ignores a second release of the same permit", async () => {
    const semaphore = createSemaphore(1);
    const release = await semaphore.acquire();
    release();
    release();
    assert.equal(semaphore.inUse, 0);
    await semaphore.acquire();
    assert.equal(semaphore.inUse, 1);
  });

  it("drops a waiter whose signal aborts, with the signal's reason", async () => {
    const semaphore = createSemaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error("gone"));
    await assert.rejects(waiting, /gone/);
    assert.equal(semaphore.waiting, 0);
    release();
    assert.equal(semaphore.inUse, 0, "the permit was not handed to the aborted waiter");
    await assert.rejects(semaphore.acquire(AbortSignal.abort(new Error("already"))), /already/);
  });

  it("rejects a permit count below one", () => {
    assert.throws(() => createSemaphore(0), RangeError);
  });
});
