import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cacheDirectives } from "./cache-control.js";

describe("cache-control directives", () => {
  it("reads and writes without the header or with unrelated directives", () => {
    assert.deepEqual(cacheDirectives(undefined), { read: true, write: true });
    assert.deepEqual(cacheDirectives(""), { read: true, write: true });
    assert.deepEqual(cacheDirectives("max-age=60, private"), { read: true, write: true });
  });

  it("no-cache skips the lookup but refreshes the entry", () => {
    assert.deepEqual(cacheDirectives("no-cache"), { read: false, write: true });
    assert.deepEqual(cacheDirectives("max-age=0, No-Cache"), { read: false, write: true });
  });

  it("no-store skips both", () => {
    assert.deepEqual(cacheDirectives("no-store"), { read: false, write: false });
    assert.deepEqual(cacheDirectives(" no-cache , no-store "), { read: false, write: false });
  });
});
