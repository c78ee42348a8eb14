import type { Kysely } from "kysely";
import type { Clock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { Database } from "../../storage/schema.js";
import type { WebhookTarget } from "./dispatcher.js";
import { webhookSecret } from "./signature.js";

export interface WebhookView {
  id: string;
  tenantId: string;
  url: string;
  createdAt: string;
  disabledAt: string | null;
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelportError("MP_INVALID_REQUEST", "url must be an absolute http(s) URL", { param: "url" });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new ModelportError("MP_INVALID_REQUEST", "url must use http or https", { param: "url" });
}

/** Tenants' webhook endpoints. Secrets are derived (signature.ts) and shown on creation, never stored. */
export function createWebhookRepository(options: {
  db: Kysely<Database>;
  clock: Clock;
  secretKey: Buffer;
  operatorWebhooks?: readonly { url: string; secret: string }[];
}) {
  const { db, clock, secretKey } = options;
  return {
    async create(tenantId: string, url: string): Promise<WebhookView & { secret: string }> {
      checkUrl(url);
      const view: WebhookView = {
        id: randomId("whk", 16),
        tenantId,
        url,
        createdAt: new Date(clock.now()).toISOString(),
        disabledAt: null,
      };
      await db
        .insertInto("webhooks")
        .values({ id: view.id, tenant_id: tenantId, url, created_at: view.createdAt, disabled_at: null })
        .execute();
      return { ...view, secret: webhookSecret(secretKey, view.id) };
    },

    async list(tenantId: string): Promise<WebhookView[]> {
      const rows = await db
        .selectFrom("webhooks")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .orderBy("created_at")
        .execute();
      return rows.map((row) => ({
        id: row.id,
        tenantId: row.tenant_id,
        url: row.url,
        createdAt: row.created_at,
        disabledAt: row.disabled_at,
      }));
    },

    async disable(tenantId: string, id: string): Promise<boolean> {
      const result = await db
        .updateTable("webhooks")
        .set({ disabled_at: new Date(clock.now()).toISOString() })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("disabled_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Where a tenant's alerts go (operator alerts: the config's webhooks). */
    async targetsFor(tenantId: string | null): Promise<WebhookTarget[]> {
      if (tenantId === null)
        return (options.operatorWebhooks ?? []).map((hook, index) => ({ id: `operator-${index}`, ...hook }));
      const rows = await db
        .selectFrom("webhooks")
        .select(["id", "url"])
        .where("tenant_id", "=", tenantId)
        .where("disabled_at", "is", null)
        .execute();
      return rows.map((row) => ({ id: row.id, url: row.url, secret: webhookSecret(secretKey, row.id) }));
    },
  };
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
