import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "./helpers/cli.js";

/** `modelport datasets import|list|show` against a real data directory. */
describe("modelport datasets", () => {
  let dir: string;
  const env = { MODELPORT_ADMIN_TOKEN: "datasets-cli-token" };
  const cli = (...args: string[]) => runCli([...args, "--data-dir", dir], env);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-datasets-"));
    assert.equal((await cli("tenants", "create", "default")).code, 0);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("imports a shipped example once, content-addressed", async () => {
    const first = await cli("datasets", "import", "--example", "boston", "--json");
    assert.equal(first.code, 0, first.stderr);
    const version = JSON.parse(first.stdout) as {
      version: string;
      rowCount: number;
      created: boolean;
      schema: { task: string };
    };
    assert.equal(version.rowCount, 506);
    assert.equal(version.schema.task, "regression");
    assert.match(version.version, /^[0-9a-f]{64}$/);
    const again = await cli("datasets", "import", "--example", "boston", "--json");
    assert.equal((JSON.parse(again.stdout) as { version: string; created: boolean }).created, false);
  });

  it("imports a CSV with a declared label, lists and shows it", async () => {
    await writeFile(join(dir, "tiny.csv"), "x,colour,y\n1,red,a\n2,blue,b\n3,red,a\n4,blue,b\n");
    const imported = await cli("datasets", "import", "tiny", "--csv", join(dir, "tiny.csv"), "--label", "y", "--json");
    assert.equal(imported.code, 0, imported.stderr);
    const list = JSON.parse((await cli("datasets", "list", "--json")).stdout) as { name: string }[];
    assert.deepEqual(list.map((entry) => entry.name).sort(), ["boston", "tiny"]);
    const shown = JSON.parse((await cli("datasets", "show", "tiny", "--json")).stdout) as {
      schema: { label: string; task: string; columns: { name: string; type: string }[] };
    };
    assert.equal(shown.schema.label, "y");
    assert.equal(shown.schema.task, "classification");
    assert.deepEqual(
      shown.schema.columns.map((column) => column.type),
      ["numeric", "categorical", "categorical"],
    );
  });

  it("refuses bad invocations with usage errors and missing files with one line", async () => {
    assert.equal((await cli("datasets", "import", "x")).code, 2, "no source");
    assert.equal((await cli("datasets", "import", "x", "--example", "imagenet")).code, 2);
    const missing = await cli("datasets", "import", "x", "--csv", join(dir, "nope.csv"));
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    assert.equal((await cli("datasets", "show", "unknown")).code, 1);
  });
});
