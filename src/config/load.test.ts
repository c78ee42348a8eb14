import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../core/errors.js";
import { interpolateEnvironment, parseConfigText, validateConfig } from "./load.js";

describe("config loading", () => {
  it("interpolates ${VAR} and ${VAR:-default} in nested strings only", () => {
    const result = interpolateEnvironment(
      { a: "${X}", b: ["pre-${Y:-fallback}-post", 3], c: { d: "$X plain", e: true } },
      { X: "one" },
    );
    assert.deepEqual(result, { a: "one", b: ["pre-fallback-post", 3], c: { d: "$X plain", e: true } });
  });

  it("names the key and the variable when a variable is unset", () => {
    assert.throws(
      () => interpolateEnvironment({ providers: { p: { apiKey: "${NOPE}" } } }, {}),
      /providers\.p\.apiKey: environment variable NOPE is not set/,
    );
  });

  it("fills defaults and freezes the result", () => {
    const config = validateConfig({}, "test.yaml");
    assert.equal(config.server.bodyLimitBytes, 4 * 1024 * 1024);
    assert.equal(config.auth.keyCacheTtlMs, 1000);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server));
  });

  it("rejects unknown keys at every depth, naming each", () => {
    assert.throws(
      () =>
        validateConfig(
          {
            typo: 1,
            providers: { p: { type: "openai", baseUrl: "http://127.0.0.1/v1", colour: "red" } },
          },
          "file.yaml",
        ),
      (error: unknown) => {
        assert.ok(error instanceof ModelportError);
        assert.equal(error.code, "MP_CONFIG_INVALID");
        assert.match(error.message, /invalid config in file\.yaml/);
        assert.match(error.message, /unknown key 'typo' in \(top level\)/);
        assert.match(error.message, /unknown key 'colour' in providers\.p/);
        return true;
      },
    );
  });

  it("rejects bad values with what was expected", () => {
    assert.throws(
      () => validateConfig({ providers: { p: { type: "openai", baseUrl: "ftp://x" } } }, "f.yaml"),
      /providers\.p\.baseUrl/,
    );
    assert.throws(
      () => validateConfig({ providers: { p: { type: "tensorrt", path: "x" } } }, "f.yaml"),
      /providers\.p\.type/,
    );
    assert.throws(
      () =>
        validateConfig(
          {
            providers: { p: { type: "openai", baseUrl: "http://h/v1" } },
            endpoints: { e: { kind: "chat", targets: [] } },
          },
          "f.yaml",
        ),
      /endpoints\.e\.targets/,
    );
    assert.throws(
      () =>
        validateConfig(
          {
            providers: { p: { type: "openai", baseUrl: "http://h/v1" } },
            endpoints: { e: { kind: "chat", targets: [{ provider: "p", weight: 0 }] } },
          },
          "f.yaml",
        ),
      /at least one target needs a weight above 0/,
    );
  });

  it("parses YAML and JSON and reports syntax errors with the file", () => {
    assert.deepEqual(parseConfigText("a: 1", "x.yaml"), { a: 1 });
    assert.deepEqual(parseConfigText('{"a": 1}', "x.json"), { a: 1 });
    assert.throws(() => parseConfigText("{nope", "x.json"), /cannot parse x\.json/);
    assert.throws(() => parseConfigText("a: [1", "x.yaml"), /cannot parse x\.yaml/);
  });
});
