import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type MockOpenAIUpstream, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { runCli } from "./helpers/cli.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";

interface AuditEntry {
  action: string;
  actor: string;
  tenantId: string | null;
  details: Record<string, unknown>;
}

interface Invoice {
  period: string;
  usageSubtotalMicros: number;
  totalMicros: number;
  plan: { name: string; includedMicros: number; adjustmentBps: number } | null;
  adjustments: { dimension: string; amountMicros: number }[];
}

/**
 * Plans, usage and the raw-record export over the admin API of the real server: a plan set through
 * the API changes the invoice total to the micro, validation names the field, the export streams
 * every record in three formats and each export is on the audit trail, and roles and tenants are
 * kept apart.
 */
describe("admin API: plans, usage and usage export", () => {
  let upstream: MockOpenAIUpstream;
  let gateway: TestGateway;
  const requestIds: string[] = [];
  const period = new Date().toISOString().slice(0, 7);
  const monthStart = `${period}-01T00:00:00.000Z`;
  const roleKeys: Record<string, string> = {};
  let otherOwnerKey: string;
  let inferenceKeyId: string;

  const as = (key: string, path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}/admin/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers },
    });
  const admin = (path: string, init: RequestInit = {}) => as(gateway.adminToken, path, init);
  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const text = await response.text();
    assert.equal(response.status, status, text);
    return JSON.parse(text) as T;
  };
  /** The tenant's data-exported audit entries, oldest first (the API lists newest first). */
  const exports = async () =>
    (
      await json<{ entries: AuditEntry[] }>(
        await admin(`/audit?action=data-exported&tenant=${gateway.tenantId}&limit=1000`),
      )
    ).entries.reverse();

  before(async () => {
    upstream = await startMockOpenAIUpstream();
    gateway = await startTestGateway({
      providers: { up: { type: "openai", baseUrl: upstream.url } },
      endpoints: {
        // Each call: 2 input tokens × 2 µ$ + 5 output × 4 µ$ + 100 µ$ per request = 124 micro-USD.
        chat: {
          kind: "chat",
          targets: [{ provider: "up", model: "m" }],
          pricing: { inputPerMillionTokens: 2, outputPerMillionTokens: 4, perRequest: 0.0001 },
        },
        flat: { kind: "chat", targets: [{ provider: "up", model: "m" }], pricing: { perRequest: 0.0001 } },
      },
    });
    for (let index = 0; index < 7; index += 1) {
      const response = await gateway.call("/v1/chat/completions", {
        model: "chat",
        messages: [{ role: "user", content: "hello there" }],
      });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      requestIds.push(response.headers.get("x-request-id") ?? "");
    }
    for (const role of ["owner", "developer", "billing", "viewer"]) {
      const created = await json<{ key: string }>(
        await admin("/tenants/acme/keys", { method: "POST", body: JSON.stringify({ scopes: ["admin"], role }) }),
        201,
      );
      roleKeys[role] = created.key;
    }
    await json(await admin("/tenants", { method: "POST", body: JSON.stringify({ name: "rival" }) }), 201);
    otherOwnerKey = (
      await json<{ key: string }>(
        await admin("/tenants/rival/keys", {
          method: "POST",
          body: JSON.stringify({ scopes: ["admin"], role: "owner" }),
        }),
        201,
      )
    ).key;
    const keys = await json<{ data: { id: string; scopes: string[] }[] }>(await admin("/tenants/acme/keys"));
    inferenceKeyId = keys.data.find((key) => !key.scopes.includes("admin"))?.id ?? "";
    assert.ok(inferenceKeyId);
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it("changes the invoice total exactly when a plan is set through the API", async () => {
    const before = await json<Invoice>(await admin(`/tenants/acme/invoice?period=${period}`));
    assert.equal(before.usageSubtotalMicros, 7 * 124);
    assert.equal(before.totalMicros, 868);
    assert.equal(before.plan, null);

    const plan = await json<Record<string, unknown>>(
      await admin("/tenants/acme/plans", {
        method: "POST",
        body: JSON.stringify({
          name: "pro",
          includedUsd: "0.0002",
          discountPercent: "12.34",
          effectiveFrom: monthStart,
        }),
      }),
      201,
    );
    assert.equal(plan.includedMicros, 200);
    assert.equal(plan.adjustmentBps, -1_234);
    assert.equal(plan.effectiveFrom, monthStart);
    assert.equal(plan.firstInvoicePeriod, period);
    const planAudit = await json<{ entries: AuditEntry[] }>(
      await admin(`/audit?action=plan-changed&tenant=${gateway.tenantId}`),
    );
    assert.equal(planAudit.entries.length, 1, "setting a plan is on the audit trail");
    assert.equal(planAudit.entries[0]?.actor, "admin");
    assert.equal(planAudit.entries[0]?.details.name, "pro");

    // 868 − 200 included = 668; 12.34% of 668 = 82.4312 → 82 (half up); 668 − 82 = 586.
    const after = await json<Invoice>(await admin(`/tenants/acme/invoice?period=${period}`));
    assert.equal(after.usageSubtotalMicros, 868);
    assert.deepEqual(
      after.adjustments.map((line) => [line.dimension, line.amountMicros]),
      [
        ["included_usage", -200],
        ["discount", -82],
      ],
    );
    assert.equal(after.totalMicros, 586);
    assert.deepEqual(after.plan, { id: plan.id, name: "pro", includedMicros: 200, adjustmentBps: -1_234 });

    const env = { MODELPORT_ADMIN_TOKEN: gateway.adminToken };
    const cli = await runCli(["invoice", "--tenant", "acme", "--period", period, "--data-dir", gateway.dataDir], env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal((JSON.parse(cli.stdout) as Invoice).totalMicros, 586);
    const reconcile = await runCli(
      ["invoice", "--tenant", "acme", "--period", period, "--reconcile", "--data-dir", gateway.dataDir],
      env,
    );
    assert.equal(reconcile.code, 0, reconcile.stdout + reconcile.stderr);

    const csv = await admin(`/tenants/acme/invoice?period=${period}&format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    assert.match(await csv.text(), /,total,.*,0\.000586,USD\r\n$/);
  });

  it("lists plans; a plan from mid-month is current now but changes next month's invoice, not this one", async () => {
    const later = await json<{ id: string; firstInvoicePeriod: string }>(
      await admin("/tenants/acme/plans", {
        method: "POST",
        body: JSON.stringify({ name: "enterprise", adjustmentBps: 2_500 }),
      }),
      201,
    );
    const next = new Date(Date.UTC(Number(period.slice(0, 4)), Number(period.slice(5, 7)), 1))
      .toISOString()
      .slice(0, 7);
    assert.equal(later.firstInvoicePeriod, next);
    const listed = await json<{ data: { name: string }[]; current: { id: string } | null }>(
      await admin("/tenants/acme/plans"),
    );
    assert.deepEqual(
      listed.data.map((plan) => plan.name),
      ["pro", "enterprise"],
    );
    assert.equal(listed.current?.id, later.id);
    assert.equal((await json<Invoice>(await admin(`/tenants/acme/invoice?period=${period}`))).totalMicros, 586);
  });

  it("refuses a negative, non-finite or ambiguous plan with MP_INVALID_REQUEST naming the field", async () => {
    const count = (await json<{ data: unknown[] }>(await admin("/tenants/acme/plans"))).data.length;
    const cases: [string, string, RegExp][] = [
      ['{"name":"p","includedUsd":-1}', "includedUsd", /negative/],
      ['{"name":"p","includedUsd":1e999}', "includedUsd", /finite/],
      ['{"name":"p","includedMicros":-3}', "includedMicros", /negative/],
      ['{"name":"p","discountPercent":"-5"}', "discountPercent", /negative/],
      ['{"name":"p","includedUsd":"1","includedMicros":1000000}', "includedMicros", /ambiguous/],
      ['{"name":"p","discountPercent":10,"markupPercent":10}', "markupPercent", /ambiguous/],
      ['{"name":"p","includedUsd":"0.0000005"}', "includedUsd", /6 decimal places/],
      ['{"name":"p","markupPercent":"2.555"}', "markupPercent", /2 decimal places/],
      ['{"name":"p","effectiveFrom":"2026-12-01T00:00"}', "effectiveFrom", /offset/],
      ['{"name":"p","adjustmentBps":100001}', "adjustmentBps", /100000/],
      ['{"includedUsd":"1"}', "name", /.+/],
    ];
    for (const [body, param, message] of cases) {
      const response = await admin("/tenants/acme/plans", { method: "POST", body });
      const error = (await json<{ error: { code: string; param: string; message: string } }>(response, 400)).error;
      assert.equal(error.code, "MP_INVALID_REQUEST", body);
      assert.equal(error.param, param, body);
      assert.match(error.message, message, body);
    }
    const unknown = await admin("/tenants/acme/plans", { method: "POST", body: '{"name":"p","discount":5}' });
    assert.match((await json<{ error: { message: string } }>(unknown, 400)).error.message, /unknown field.*discount/);
    assert.equal((await json<{ data: unknown[] }>(await admin("/tenants/acme/plans"))).data.length, count);
  });

  it("lets only the operator set plans, billing read them, and hides them from other tenants", async () => {
    const body = JSON.stringify({ name: "sneaky", discountPercent: 100 });
    assert.equal((await as(roleKeys.owner as string, "/tenants/acme/plans", { method: "POST", body })).status, 403);
    // No tenant role holds tenant:plan, so the role check (before the tenant lookup) answers first.
    assert.equal((await as(otherOwnerKey, "/tenants/acme/plans", { method: "POST", body })).status, 403);
    assert.equal((await as(roleKeys.billing as string, "/tenants/acme/plans")).status, 200);
    assert.equal((await as(roleKeys.viewer as string, "/tenants/acme/plans")).status, 403);
    assert.equal((await as(otherOwnerKey, "/tenants/acme/plans")).status, 404);
    assert.equal((await as(otherOwnerKey, `/tenants/${gateway.tenantId}/invoice`)).status, 404);
  });

  it("reports usage totals like `modelport usage --json`, filtered by time, endpoint and key", async () => {
    type Report = { totals: Record<string, number>; days?: { day: string; requests: number }[] };
    const report = await json<Report>(await admin("/tenants/acme/usage"));
    assert.deepEqual(report.totals, { requests: 7, inputTokens: 14, outputTokens: 35, items: 0, costMicros: 868 });
    const cli = await runCli(["usage", "--tenant", "acme", "--json", "--data-dir", gateway.dataDir], {
      MODELPORT_ADMIN_TOKEN: gateway.adminToken,
    });
    assert.equal(cli.code, 0, cli.stderr);
    const cliTotals = (JSON.parse(cli.stdout) as { totals: Record<string, number> }).totals;
    const apiTotals: Record<string, number> = { ...report.totals };
    for (const [name, value] of Object.entries(cliTotals)) assert.equal(apiTotals[name], value, name);

    assert.equal((await json<Report>(await admin("/tenants/acme/usage?endpoint=flat"))).totals.requests, 0);
    assert.equal((await json<Report>(await admin(`/tenants/acme/usage?key=${inferenceKeyId}`))).totals.requests, 7);
    assert.equal((await json<Report>(await admin("/tenants/acme/usage?key=key_nobody"))).totals.requests, 0);
    const past = await json<Report>(
      await admin("/tenants/acme/usage?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z"),
    );
    assert.equal(past.totals.requests, 0);
    const byDay = await json<Report>(await admin("/tenants/acme/usage?groupBy=day"));
    assert.equal(byDay.days?.length, 1);
    assert.equal(byDay.days?.[0]?.requests, 7);
    const backwards = await admin("/tenants/acme/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z");
    assert.equal((await json<{ error: { param: string } }>(backwards, 400)).error.param, "to");
    assert.equal((await as(roleKeys.developer as string, "/tenants/acme/usage")).status, 200);
    assert.equal((await as(roleKeys.viewer as string, "/tenants/acme/usage")).status, 403);
    assert.equal((await as(otherOwnerKey, "/tenants/acme/usage")).status, 404);
  });

  it("streams every raw record as jsonl, csv and json, and audits each export", async () => {
    const before = (await exports()).length;

    const jsonl = await admin("/tenants/acme/usage/records");
    assert.equal(jsonl.status, 200);
    assert.match(jsonl.headers.get("content-type") ?? "", /^application\/x-ndjson/);
    const lines = (await jsonl.text()).trimEnd().split("\n");
    const fromJsonl = lines.map((line) => JSON.parse(line) as { requestId: string; costMicros: number });
    assert.deepEqual(fromJsonl.map((record) => record.requestId).sort(), [...requestIds].sort());
    assert.ok(fromJsonl.every((record) => record.costMicros === 124));

    const csv = await as(roleKeys.developer as string, "/tenants/acme/usage/records?format=csv");
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    const rows = (await csv.text()).trimEnd().split("\r\n");
    assert.equal(rows.length, 8, "a header and 7 records");
    assert.match(rows[0] ?? "", /^requestId,time,tenantId,keyId,endpoint/);

    const array = await admin(`/tenants/${gateway.tenantId}/usage/records?format=json&from=${monthStart}`);
    assert.equal((JSON.parse(await array.text()) as unknown[]).length, 7);
    const none = await admin("/tenants/acme/usage/records?format=json&to=2020-01-01T00:00:00Z");
    assert.deepEqual(JSON.parse(await none.text()), []);

    const audited = (await exports()).slice(before);
    assert.equal(audited.length, 4, "one data-exported entry per export");
    assert.deepEqual(
      audited.map((entry) => [entry.actor.startsWith("key:") ? "key" : entry.actor, entry.details.format]),
      [
        ["admin", "jsonl"],
        ["key", "csv"],
        ["admin", "json"],
        ["admin", "json"],
      ],
    );
    assert.ok(audited.every((entry) => entry.tenantId === gateway.tenantId && entry.details.source === "admin-api"));
    assert.equal(audited[2]?.details.from, monthStart);
  });

  it("refuses exports to other tenants, unprivileged roles and unknown formats, without an audit entry", async () => {
    const before = (await exports()).length;
    const rival = await as(otherOwnerKey, "/tenants/acme/usage/records");
    assert.equal(rival.status, 404);
    assert.ok(!(await rival.text()).includes(requestIds[0] as string));
    assert.equal((await as(roleKeys.viewer as string, "/tenants/acme/usage/records")).status, 403);
    const xml = await admin("/tenants/acme/usage/records?format=xml");
    assert.equal((await json<{ error: { param: string } }>(xml, 400)).error.param, "format");
    assert.equal((await exports()).length, before);
  });

  it("audits `modelport usage --records` as a data export, and plain `usage` not", async () => {
    const env = { MODELPORT_ADMIN_TOKEN: gateway.adminToken };
    const before = (await exports()).length;
    const totalsOnly = await runCli(["usage", "--tenant", "acme", "--json", "--data-dir", gateway.dataDir], env);
    assert.equal(totalsOnly.code, 0, totalsOnly.stderr);
    assert.equal((await exports()).length, before);
    const withRecords = await runCli(
      ["usage", "--tenant", "acme", "--records", "--json", "--data-dir", gateway.dataDir],
      env,
    );
    assert.equal(withRecords.code, 0, withRecords.stderr);
    const added = (await exports()).slice(before);
    assert.equal(added.length, 1);
    assert.equal(added[0]?.actor, "cli");
    assert.equal(added[0]?.details.records, 7);
    assert.equal(added[0]?.details.source, "cli");
  });
});
