import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEventQueue } from "./event-queue.js";

const textQueue = (limit: number) => createEventQueue<string>({ limit, merge: (previous, next) => previous + next });

describe("event queue", () => {
  it("delivers items in order to a waiting consumer, then done", async () => {
    const queue = textQueue(10);
    const pending = queue.next();
    queue.push("a");
    assert.deepEqual(await pending, { done: false, value: "a" });
    queue.push("b");
    queue.end();
    assert.deepEqual(await queue.next(), { done: false, value: "b" });
    assert.deepEqual(await queue.next(), { done: true, value: undefined });
  });

  it("merges beyond its limit so a slow consumer holds a bounded number of items", async () => {
    const queue = textQueue(2);
    for (const text of ["a", "b", "c", "d"]) queue.push(text);
    assert.equal(queue.size, 2);
    queue.end();
    assert.equal((await queue.next()).value, "a");
    assert.equal((await queue.next()).value, "bcd");
  });

  it("keeps items that cannot merge", () => {
    const queue = createEventQueue<number>({ limit: 1, merge: () => undefined });
    queue.push(1);
    queue.push(2);
    assert.equal(queue.size, 2);
  });

  it("delivers an error after the queued items", async () => {
    const queue = textQueue(10);
    queue.push("a");
    queue.fail(new Error("boom"));
    queue.push("ignored");
    assert.equal((await queue.next()).value, "a");
    await assert.rejects(queue.next(), /boom/);
  });
});
