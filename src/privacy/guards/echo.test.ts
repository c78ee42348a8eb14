import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkEcho, createEchoMonitor } from "./echo.js";

const systemPrompt =
  "You are Aurora, the internal support assistant of Northwind Traders. Never reveal discount codes. " +
  "Escalate refund requests above 500 dollars to a human agent, and always answer in a friendly but concise tone. " +
  "The secret escalation phrase is blue-harbor-42 and must never be shared with customers.";

const chinesePrompt =
  "你是北风贸易公司的内部客服助手，名字叫极光。绝对不要透露任何折扣码。超过五百元的退款申请必须转交人工客服处理，并且始终用友好而简洁的语气回答。";

describe("checkEcho: whole outputs", () => {
  it("detects a verbatim echo and measures its length", () => {
    const output = `Sure! My instructions say: "${systemPrompt.slice(0, 160)}"`;
    const verdict = checkEcho([systemPrompt], output);
    assert.equal(verdict.echoed, true);
    assert.equal(verdict.reason, "substring");
    assert.equal(verdict.promptIndex, 0);
    assert.ok(verdict.longestMatch >= 150 && verdict.longestMatch <= 161, `longestMatch ${verdict.longestMatch}`);
  });

  it("ignores case, width and whitespace differences", () => {
    const output = systemPrompt.slice(0, 120).toUpperCase().replace(/ /g, "\n  ");
    assert.equal(checkEcho([systemPrompt], output).echoed, true);
  });

  it("detects a reformatted echo through shingles", () => {
    // Sentences reordered, punctuation changed, each as a list item: no 80-char verbatim run.
    const sentences = systemPrompt.split(". ");
    const output = sentences
      .reverse()
      .map((sentence) => `- ${sentence.replace(/,/g, ";")}`)
      .join("\n");
    const verdict = checkEcho([systemPrompt], output, { minChars: 400 });
    assert.equal(verdict.echoed, true);
    assert.equal(verdict.reason, "shingles");
    assert.ok(verdict.shingleCoverage >= 0.5);
  });

  it("detects Chinese echoes (each ideograph is a word)", () => {
    const verdict = checkEcho([chinesePrompt], `好的，我的设定是：${chinesePrompt.slice(0, 50)}`, { minChars: 30 });
    assert.equal(verdict.echoed, true);
  });

  it("does not fire on an answer that shares only a short phrase", () => {
    const output =
      "Hi! I'm Aurora. I can help with your order. Refund requests above 500 dollars are handled by a colleague; " +
      "I'll pass yours on right away.";
    const verdict = checkEcho([systemPrompt], output);
    assert.equal(verdict.echoed, false);
    assert.ok(verdict.longestMatch < 80);
    assert.ok(verdict.shingleCoverage < 0.5);
  });

  it("a short system prompt cannot be echoed (nothing secret to leak)", () => {
    assert.equal(checkEcho(["You are a helpful assistant."], "You are a helpful assistant.").echoed, false);
  });

  it("points at the right prompt among several", () => {
    const verdict = checkEcho(["Unrelated short prompt.", chinesePrompt, systemPrompt], systemPrompt.slice(40, 200));
    assert.equal(verdict.echoed, true);
    assert.equal(verdict.promptIndex, 2);
  });
});

describe("createEchoMonitor: streams", () => {
  it("finds an echo split across many small chunks, as its last character arrives", () => {
    const leaked = systemPrompt.slice(100, 200);
    const output = `Here you go: ${leaked} ... anything else?`;
    const monitor = createEchoMonitor([systemPrompt], { minChars: 80 });
    let firstEchoAt = -1;
    const chunkSize = 7;
    for (let i = 0; i < output.length; i += chunkSize) {
      const verdict = monitor.push(output.slice(i, i + chunkSize));
      if (verdict.echoed && firstEchoAt < 0) firstEchoAt = i + chunkSize;
    }
    const echoStart = output.indexOf(leaked);
    assert.ok(firstEchoAt > 0, "echo found");
    // Found within one chunk of the 80th echoed character, so the stream can be cut early.
    assert.ok(firstEchoAt >= echoStart + 80 && firstEchoAt < echoStart + 80 + chunkSize, `at ${firstEchoAt}`);
    assert.equal(monitor.finish().echoed, true);
  });

  it("handles whitespace and surrogate pairs split across chunks", () => {
    const prompt = `${systemPrompt} 🙂 emoji marker 🙂 ${systemPrompt.slice(0, 10)}`;
    const monitor = createEchoMonitor([prompt], { minChars: 60 });
    const leaked = prompt.slice(prompt.indexOf("🙂") - 40, prompt.indexOf("🙂") + 30);
    const chunks: string[] = [];
    for (let i = 0; i < leaked.length; i += 3) chunks.push(leaked.slice(i, i + 3));
    // Split inside a surrogate pair: chunk boundaries every 3 UTF-16 units hit one eventually.
    assert.ok(chunks.some((chunk) => /[\uD800-\uDBFF]$/.test(chunk)));
    for (const chunk of chunks) monitor.push(chunk.replace(/ /g, "  "));
    assert.equal(monitor.finish().echoed, true);
  });

  it("shingle evidence accumulates across chunks and the last word is flushed on finish", () => {
    const words = systemPrompt.split(" ");
    const monitor = createEchoMonitor([systemPrompt], { minChars: 1000, minShingleCoverage: 0.9 });
    for (const word of words) monitor.push(`${word}; `.replace("; ", ";"));
    const before = monitor.verdict();
    const after = monitor.finish();
    assert.ok(after.shingleCoverage >= before.shingleCoverage);
    assert.equal(after.echoed, true);
    assert.equal(after.reason, "shingles");
  });

  it("stays quiet on unrelated streams and on empty pushes", () => {
    const monitor = createEchoMonitor([systemPrompt]);
    for (const chunk of ["", "The weather ", "", "in Paris is mild today, with light rain expected this evening."]) {
      assert.equal(monitor.push(chunk).echoed, false);
    }
    assert.deepEqual(monitor.finish(), { echoed: false, longestMatch: 0, shingleCoverage: 0 });
  });

  it("monitors sharing a prompt but not options do not share an index", () => {
    const output = systemPrompt.slice(0, 70);
    assert.equal(checkEcho([systemPrompt], output, { minChars: 64 }).echoed, true);
    assert.equal(checkEcho([systemPrompt], output, { minChars: 80 }).echoed, false);
    assert.equal(checkEcho([systemPrompt], output, { minChars: 64 }).echoed, true);
  });

  it("100 KB of output streamed in small chunks stays fast", () => {
    const output = "lorem ipsum dolor sit amet ".repeat(4000);
    let fastest = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const monitor = createEchoMonitor([systemPrompt, chinesePrompt]);
      for (let i = 0; i < output.length; i += 32) monitor.push(output.slice(i, i + 32));
      assert.equal(monitor.finish().echoed, false);
      fastest = Math.min(fastest, performance.now() - start);
    }
    assert.ok(fastest < 200, `fastest ${fastest.toFixed(1)} ms`);
  });

  it("no system prompts: never echoed", () => {
    assert.equal(checkEcho([], systemPrompt).echoed, false);
  });
});
