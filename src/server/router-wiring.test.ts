import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { answerDifference } from "./router-wiring.js";

const chat = (content: string) => ({ choices: [{ message: { content } }] });

describe("shadow answer difference", () => {
  it("is 0 for the same words and 1 for disjoint ones", () => {
    assert.equal(answerDifference(chat("Hello world"), chat("hello   WORLD")), 0);
    assert.equal(answerDifference(chat("a b"), chat("c d")), 1);
  });
  it("is the Jaccard distance in between", () => {
    assert.equal(answerDifference(chat("a b c"), chat("a b d")), 0.5);
  });
  it("compares tensor outputs exactly", () => {
    assert.equal(answerDifference({ outputs: [{ data: [1, 2] }] }, { outputs: [{ data: [1, 2] }] }), 0);
    assert.equal(answerDifference({ outputs: [{ data: [1, 2] }] }, { outputs: [{ data: [1, 3] }] }), 1);
  });
});
