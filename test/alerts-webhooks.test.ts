import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { systemClock } from "../src/core/clock.js";
import { noLimits } from "../src/core/storage.js";
import { type AlertDispatcher, createAlertDispatcher } from "../src/monitoring/alerts/dispatcher.js";
import { verifyWebhook } from "../src/monitoring/alerts/signature.js";
import { createWebhookRepository, type WebhookRepository } from "../src/monitoring/alerts/webhooks.js";
import { createStorage } from "../src/storage/create-storage.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";

interface Received {
  body: string;
  signature: string;
  eventId: string;
}

/** Alerts delivered to a real webhook receiver on loopback: signed, retried, de-duplicated. */
describe("alert webhooks", () => {
  let dir: string;
  let handle: DatabaseHandle;
  let receiver: Server;
  let url: string;
  const received: Received[] = [];
  let failNext = 0;
  let webhooks: WebhookRepository;
  let dispatcher: AlertDispatcher;
  let secret: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-alerts-"));
    handle = await openDatabase({ dataDir: dir });
    await createStorage(handle).tenants.create({
      id: "ten_a",
      name: "a",
      createdAt: new Date().toISOString(),
      limits: noLimits,
    });
    receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        if (failNext > 0) {
          failNext--;
          response.writeHead(503).end();
          return;
        }
        received.push({
          body,
          signature: String(request.headers["x-modelport-signature"]),
          eventId: String(request.headers["x-modelport-event-id"]),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    webhooks = createWebhookRepository({ db: handle.db, clock: systemClock, secretKey: Buffer.alloc(32, 3) });
    secret = (await webhooks.create("ten_a", url)).secret;
    dispatcher = createAlertDispatcher({
      db: handle.db,
      clock: systemClock,
      webhooksFor: (tenantId) => webhooks.targetsFor(tenantId),
      baseDelayMs: 20,
      maxAttempts: 3,
    });
  });
  after(async () => {
    await dispatcher?.close();
    receiver?.close();
    await handle?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const alert = (dedupKey: string) => ({
    tenantId: "ten_a",
    kind: "budget-threshold-reached" as const,
    dedupKey,
    severity: "warning" as const,
    summary: "80% of the monthly budget is spent",
    details: { spentMicros: 800_000, budgetMicros: 1_000_000 },
  });

  it("delivers a new alert, signed with the webhook's secret", async () => {
    const { alert: fired, isNew } = await dispatcher.fire(alert("budget:ten_a:2026-11:80"));
    assert.equal(isNew, true);
    await dispatcher.idle();
    assert.equal(received.length, 1);
    const [delivery] = received;
    assert.ok(delivery);
    assert.equal(delivery.eventId, fired.id);
    assert.ok(verifyWebhook(secret, delivery.body, delivery.signature), "the signature verifies");
    assert.ok(!verifyWebhook("whsec_wrong", delivery.body, delivery.signature), "and not with another secret");
    assert.ok(!verifyWebhook(secret, `${delivery.body} `, delivery.signature), "nor for another body");
    assert.equal((JSON.parse(delivery.body) as { kind: string }).kind, "budget-threshold-reached");
    const [stored] = await dispatcher.list({ tenantId: "ten_a" });
    assert.ok(stored?.deliveredAt);
    assert.equal(stored?.deliveryAttempts, 1);
  });

  it("de-duplicates the same alert within the window", async () => {
    const again = await dispatcher.fire(alert("budget:ten_a:2026-11:80"));
    assert.equal(again.isNew, false);
    assert.equal(again.alert.occurrences, 2);
    await dispatcher.idle();
    assert.equal(received.length, 1, "not sent twice");
  });

  it("retries a failing receiver with backoff", async () => {
    failNext = 2;
    await dispatcher.fire(alert("retry-me"));
    await dispatcher.idle();
    assert.equal(received.length, 2);
    const stored = (await dispatcher.list({ tenantId: "ten_a" })).find((entry) => entry.dedupKey === "retry-me");
    assert.equal(stored?.deliveryAttempts, 3);
    assert.ok(stored?.deliveredAt);
  });

  it("records a delivery that never succeeds", async () => {
    failNext = 10;
    await dispatcher.fire(alert("never"));
    await dispatcher.idle();
    const stored = (await dispatcher.list({ tenantId: "ten_a" })).find((entry) => entry.dedupKey === "never");
    assert.equal(stored?.deliveredAt, null);
    assert.match(stored?.lastError ?? "", /503/);
    failNext = 0;
  });

  it("rejects webhook URLs that are not http(s)", async () => {
    await assert.rejects(webhooks.create("ten_a", "ftp://example.com"), /http or https/);
    await assert.rejects(webhooks.create("ten_a", "not a url"), /absolute/);
  });
});
