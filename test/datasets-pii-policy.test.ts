import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "./helpers/cli.js";

/**
 * `modelport datasets import --pii-policy`: the policy is applied to the cells before the version
 * is written, so nothing under the data directory (dataset files, meta.json, the SQLite database
 * holding the version rows and quality reports) contains the plaintext values.
 */
const people = [
  { name: "Sarah Johnson", email: "sarah.johnson@example.com", phone: "(415) 555-2671", card: "4111 1111 1111 1111" },
  {
    name: "Oliver Smith",
    email: "oliver.smith@mail.example.org",
    phone: "+44 20 7946 0958",
    card: "5500-0000-0000-0004",
  },
  { name: "Sarah Johnson", email: "sarah.johnson@example.com", phone: "138 1234 5678", card: "3782 822463 10005" },
];
// A column of bare card numbers reads as numeric: it must be protected too.
const bareCards = ["4012888888881881", "4222222222222", "6011111111111117"];
const csv = [
  "note,email,phone,card,bare_card,label",
  ...people.map(
    (person, index) =>
      `"Customer ${person.name} called from ${person.phone}",${person.email},${person.phone},${person.card},${bareCards[index]},${index % 2 === 0 ? "yes" : "no"}`,
  ),
].join("\n");

/** Every plaintext value, and the digit-only form of every number. */
const plaintexts = [
  ...new Set(
    people.flatMap((person) => [
      person.name,
      person.email,
      person.phone,
      person.card,
      person.card.replace(/[^0-9]/g, ""),
      person.phone.replace(/[^0-9]/g, ""),
    ]),
  ),
  ...bareCards,
];

async function filesUnder(directory: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Plaintext values found in any file of the data dir except the source CSVs the test wrote. */
async function plaintextHits(dataDir: string, sources: readonly string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await filesUnder(dataDir)) {
    if (sources.includes(file)) continue;
    const bytes = await readFile(file);
    for (const value of plaintexts) {
      if (bytes.includes(Buffer.from(value, "utf8")) || bytes.includes(Buffer.from(value, "utf16le")))
        hits.push(`${value} in ${file}`);
    }
  }
  return hits;
}

interface ImportedVersion {
  name: string;
  version: string;
  created: boolean;
  directory: string;
  quality: {
    piiScanned: boolean;
    warnings: string[];
    columns: Record<string, { pii?: Record<string, number> }>;
    piiPolicy?: {
      source: string;
      defaultAction: string;
      entities: Record<string, string>;
      cellsChanged: number;
      columns: Record<string, Record<string, Record<string, number>>>;
    };
  };
}

describe("datasets import with a PII policy", () => {
  let dir: string;
  let csvPath: string;
  const sources: string[] = [];
  const env = { MODELPORT_ADMIN_TOKEN: "datasets-pii-token" };
  const cli = (...args: string[]) => runCli([...args, "--data-dir", dir], env);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-datasets-pii-"));
    csvPath = join(dir, "customers.csv");
    await writeFile(csvPath, csv);
    sources.push(csvPath);
    assert.equal((await cli("tenants", "create", "default")).code, 0);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("checks the fixture: without a policy the stored files do hold the plaintext", async () => {
    const rawDir = await mkdtemp(join(tmpdir(), "modelport-datasets-raw-"));
    try {
      const raw = (...args: string[]) => runCli([...args, "--data-dir", rawDir], env);
      assert.equal((await raw("tenants", "create", "default")).code, 0);
      const imported = await raw("datasets", "import", "raw", "--csv", csvPath, "--pii-policy", "none", "--json");
      assert.equal(imported.code, 0, imported.stderr);
      const version = JSON.parse(imported.stdout) as ImportedVersion;
      assert.equal(version.quality.piiPolicy, undefined);
      const stored = await readFile(join(version.directory, "data.jsonl"), "utf8");
      for (const person of people) assert.ok(stored.includes(person.email), "the unprotected import keeps the value");
      // Counted, as before, but not applied.
      assert.equal(version.quality.columns.email?.pii?.EMAIL_ADDRESS, 3);
      assert.ok((await plaintextHits(rawDir, [])).length > 0, "the scan finds plaintext when it is there");
    } finally {
      await rm(rawDir, { recursive: true, force: true });
    }
  });

  it("masks with a preset: zero plaintext hits on disk, and the quality report says what was done", async () => {
    const imported = await cli("datasets", "import", "customers", "--csv", csvPath, "--pii-policy", "mask", "--json");
    assert.equal(imported.code, 0, imported.stderr);
    const version = JSON.parse(imported.stdout) as ImportedVersion;
    const applied = version.quality.piiPolicy;
    assert.ok(applied, "the report names the policy");
    assert.equal(applied.source, "preset:mask");
    assert.equal(applied.defaultAction, "mask");
    assert.equal(applied.columns.email?.EMAIL_ADDRESS?.mask, 3);
    assert.equal(applied.columns.card?.CREDIT_CARD?.mask, 3);
    assert.equal(applied.columns.phone?.PHONE_NUMBER?.mask, 3);
    assert.equal(applied.columns.bare_card?.CREDIT_CARD?.mask, 3);
    assert.ok((applied.columns.note?.PERSON?.mask ?? 0) >= 3);
    assert.ok(applied.cellsChanged >= 15, `${applied.cellsChanged} cells changed`);
    assert.equal(version.quality.columns.email?.pii?.EMAIL_ADDRESS, 3, "PII counts describe the source data");
    assert.ok(version.quality.warnings.includes("email: 3 EMAIL_ADDRESS masked"), version.quality.warnings.join("; "));

    const stored = await readFile(join(version.directory, "data.jsonl"), "utf8");
    assert.ok(stored.includes("**** **** **** 1111"), "cards keep their last four digits");
    assert.deepEqual(await plaintextHits(dir, sources), []);

    // The same file under the same policy is the same version (masking is deterministic).
    const again = await cli("datasets", "import", "customers", "--csv", csvPath, "--pii-policy", "mask", "--json");
    const second = JSON.parse(again.stdout) as ImportedVersion;
    assert.equal(second.version, version.version);
    assert.equal(second.created, false);
  });

  it("applies a policy file per type: hash, replace, pseudonymize consistently, allow", async () => {
    const policyPath = join(dir, "policy.yaml");
    await writeFile(
      policyPath,
      [
        "defaultAction: replace",
        "entities:",
        "  EMAIL_ADDRESS: hash",
        "  PERSON: pseudonymize",
        "  CREDIT_CARD: { action: mask, threshold: 0.5 }",
        "  URL: allow",
      ].join("\n"),
    );
    sources.push(policyPath);
    const imported = await cli("datasets", "import", "mixed", "--csv", csvPath, "--pii-policy", policyPath, "--json");
    assert.equal(imported.code, 0, imported.stderr);
    const version = JSON.parse(imported.stdout) as ImportedVersion;
    assert.equal(version.quality.piiPolicy?.source, `file:${policyPath}`);
    assert.deepEqual(version.quality.piiPolicy?.entities, {
      EMAIL_ADDRESS: "hash",
      PERSON: "pseudonymize",
      CREDIT_CARD: "mask",
      URL: "allow",
    });
    const lines = (await readFile(join(version.directory, "data.jsonl"), "utf8")).trim().split("\n");
    const header = JSON.parse(lines[0] as string) as { columns: string[] };
    const rows = lines.slice(1).map((line) => JSON.parse(line) as string[]);
    const column = (name: string) => rows.map((row) => row[header.columns.indexOf(name)]);
    const emails = column("email");
    assert.ok(
      emails.every((email) => /^<EMAIL_ADDRESS:[0-9a-f]{16}>$/.test(String(email))),
      String(emails),
    );
    assert.equal(emails[0], emails[2], "the same address hashes to the same token");
    assert.notEqual(emails[0], emails[1]);
    assert.deepEqual(column("phone"), ["<PHONE_NUMBER>", "<PHONE_NUMBER>", "<PHONE_NUMBER>"]);
    const notes = column("note").map(String);
    assert.match(notes[0] as string, /^Customer <PERSON_1> called from <PHONE_NUMBER>$/);
    assert.match(notes[1] as string, /^Customer <PERSON_2> called from <PHONE_NUMBER>$/);
    assert.match(notes[2] as string, /^Customer <PERSON_1> called from <PHONE_NUMBER>$/, "same person, same pseudonym");
    assert.deepEqual(await plaintextHits(dir, sources), []);
  });

  it("uses the tenant's configured policy when no flag is given", async () => {
    const configPath = join(dir, "modelport.yaml");
    await writeFile(configPath, "pii:\n  tenants:\n    default:\n      defaultAction: redact\n");
    sources.push(configPath);
    const imported = await runCli(
      ["datasets", "import", "configured", "--csv", csvPath, "--json", "--data-dir", dir, "--config", configPath],
      env,
    );
    assert.equal(imported.code, 0, imported.stderr);
    const version = JSON.parse(imported.stdout) as ImportedVersion;
    assert.equal(version.quality.piiPolicy?.source, "config:tenant:default");
    const stored = await readFile(join(version.directory, "data.jsonl"), "utf8");
    assert.ok(stored.includes('"<EMAIL_ADDRESS>"'));
    assert.deepEqual(await plaintextHits(dir, sources), []);
  });

  it("block: exit code 1 naming column, row and type, and nothing imported", async () => {
    const policyPath = join(dir, "block-cards.json");
    await writeFile(policyPath, JSON.stringify({ defaultAction: "mask", entities: { CREDIT_CARD: "block" } }));
    sources.push(policyPath);
    const filesBefore = await filesUnder(join(dir, "datasets"));
    const blocked = await cli("datasets", "import", "blocked", "--csv", csvPath, "--pii-policy", policyPath);
    assert.equal(blocked.code, 1);
    const message = blocked.stderr.trim();
    assert.equal(message.split("\n").length, 1, message);
    assert.match(message, /MP_PII_BLOCKED/);
    assert.match(message, /column 'card', row 1: CREDIT_CARD is blocked/);
    for (const value of plaintexts) assert.ok(!message.includes(value), "the error never shows the value");

    const list = JSON.parse((await cli("datasets", "list", "--json")).stdout) as { name: string }[];
    assert.ok(!list.some((entry) => entry.name === "blocked"));
    await assert.rejects(stat(join(dir, "datasets", "blocked")));
    for (const tenantDir of await readdir(join(dir, "datasets")))
      await assert.rejects(stat(join(dir, "datasets", tenantDir, "blocked")), "no files for the blocked import");
    assert.deepEqual(await filesUnder(join(dir, "datasets")), filesBefore);
  });

  it("refuses an unknown preset or a malformed policy", async () => {
    const unknown = await cli("datasets", "import", "x", "--csv", csvPath, "--pii-policy", "scramble");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /neither a preset/);
    const badPath = join(dir, "bad-policy.yaml");
    await writeFile(badPath, "entities:\n  EMAIL_ADDRESS: shred\n");
    sources.push(badPath);
    const bad = await cli("datasets", "import", "x", "--csv", csvPath, "--pii-policy", badPath);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid PII policy/);
  });
});
