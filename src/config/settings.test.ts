import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { resolveSettings } from "./settings.js";

describe("settings precedence", () => {
  const cwd = mkdtempSync(join(tmpdir(), "modelport-settings-"));

  it("uses the contract's defaults", () => {
    const settings = resolveSettings({}, {}, cwd);
    assert.equal(settings.host, "127.0.0.1");
    assert.equal(settings.port, 8080);
    assert.equal(settings.dataDir, join(cwd, ".modelport"));
    assert.equal(settings.configPath, undefined);
    assert.equal(settings.databaseUrl, undefined);
  });

  it("reads ./modelport.yaml when present; flag > env > file", () => {
    writeFileSync(join(cwd, "modelport.yaml"), "server:\n  port: 7000\n  host: 0.0.0.0\n");
    assert.equal(resolveSettings({}, {}, cwd).port, 7000);
    assert.equal(resolveSettings({}, {}, cwd).host, "0.0.0.0");
    assert.equal(resolveSettings({}, { MODELPORT_PORT: "7100" }, cwd).port, 7100);
    assert.equal(resolveSettings({ port: "7200" }, { MODELPORT_PORT: "7100" }, cwd).port, 7200);
    assert.equal(resolveSettings({ dataDir: "d" }, { MODELPORT_DATA_DIR: "e" }, cwd).dataDir, join(cwd, "d"));
    assert.equal(resolveSettings({}, { MODELPORT_DATA_DIR: "/srv/mp" }, cwd).dataDir, "/srv/mp");
  });

  it("rejects bad ports, missing config files and non-postgres database URLs", () => {
    assert.throws(() => resolveSettings({ port: "80a" }, {}, cwd), /--port must be a port number/);
    assert.throws(() => resolveSettings({}, { MODELPORT_PORT: "70000" }, cwd), /MODELPORT_PORT/);
    assert.throws(() => resolveSettings({ config: "missing.yaml" }, {}, cwd), /config file not found/);
    assert.throws(
      () => resolveSettings({}, { MODELPORT_DATABASE_URL: "mysql://x" }, cwd),
      /must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
  });
});
