import { sql } from "kysely";
import { isModelportError } from "../../core/errors.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { attempt } from "../../storage/errors.js";
import type { AuditRecorder } from "../audit/audit-types.js";
import { type FieldContext, isEncryptedField } from "./ciphertext-format.js";
import type { FieldCipher } from "./field-cipher.js";

/** One stored encrypted value and where it sits. */
export interface StoredField {
  context: FieldContext;
  ciphertext: string;
}

export interface RewrapReport {
  scanned: number;
  /** Re-sealed under the tenant's newest key. */
  rewrapped: number;
  alreadyCurrent: number;
  /** Changed by someone else between read and write (the updater returned false). */
  skipped: number;
  /** Whose key was destroyed: unreadable by design, left as is. */
  shredded: number;
  /** Failed authentication or could not be written; the first 20 are listed. */
  failed: number;
  failures: { context: FieldContext; code: string; message: string }[];
}

export function emptyReport(): RewrapReport {
  return { scanned: 0, rewrapped: 0, alreadyCurrent: 0, skipped: 0, shredded: 0, failed: 0, failures: [] };
}

/**
 * The generic re-wrap loop: for every stored field, re-seal it under its tenant's newest key and
 * hand the new ciphertext to `update`, which should write it only if the stored value is still
 * `field.ciphertext` (compare-and-set) and return whether it wrote. Never throws for one bad
 * row: it counts and lists it, so one tampered value does not stop a long run.
 */
export async function rewrapFields(
  cipher: FieldCipher,
  fields: AsyncIterable<StoredField> | Iterable<StoredField>,
  update: (field: StoredField, ciphertext: string) => Promise<boolean>,
): Promise<RewrapReport> {
  const report = emptyReport();
  for await (const field of fields) {
    report.scanned++;
    try {
      const next = await cipher.reencryptField(field.context, field.ciphertext);
      if (next === undefined) report.alreadyCurrent++;
      else if (await update(field, next)) report.rewrapped++;
      else report.skipped++;
    } catch (error) {
      if (isModelportError(error) && error.code === "MP_KEY_DESTROYED") {
        report.shredded++;
        continue;
      }
      report.failed++;
      if (report.failures.length < 20)
        report.failures.push({
          context: field.context,
          code: isModelportError(error) ? error.code : "MP_INTERNAL",
          message: error instanceof Error ? error.message : String(error),
        });
    }
  }
  return report;
}

/** A table with encrypted text columns, described for `rewrapTable`. */
export interface EncryptedColumns {
  table: string;
  /** Unique, text row id (the `rowId` bound into each ciphertext). */
  idColumn: string;
  tenantColumn: string;
  columns: readonly string[];
}

const identifier = /^[a-z_][a-z0-9_]*$/;

/**
 * Re-wraps every encrypted value of a table, in id order, `batchSize` rows per read (keyset
 * pagination, so memory stays flat and rows inserted meanwhile are either seen or already
 * current). Values that are not Modelport ciphertexts (null, legacy plaintext) are left alone.
 */
export async function rewrapTable(
  database: Pick<DatabaseHandle, "db" | "dialect">,
  cipher: FieldCipher,
  spec: EncryptedColumns,
  options: { batchSize?: number } = {},
): Promise<RewrapReport> {
  for (const name of [spec.table, spec.idColumn, spec.tenantColumn, ...spec.columns])
    if (!identifier.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  const { db, dialect } = database;
  const batchSize = options.batchSize ?? 500;
  const collate = dialect === "postgres" ? sql` collate "C"` : sql``;
  const id = sql.ref(spec.idColumn);
  const selected = sql.join([spec.idColumn, spec.tenantColumn, ...spec.columns].map((name) => sql.ref(name)));

  async function* fields(): AsyncGenerator<StoredField> {
    let after: string | undefined;
    for (;;) {
      const where = after === undefined ? sql`` : sql`where ${id}${collate} > ${after}`;
      const rows = await attempt(`reading ${spec.table} to re-wrap`, () =>
        sql<
          Record<string, unknown>
        >`select ${selected} from ${sql.table(spec.table)} ${where} order by ${id}${collate} limit ${batchSize}`.execute(
          db,
        ),
      );
      for (const row of rows.rows) {
        const rowId = String(row[spec.idColumn]);
        const tenantId = String(row[spec.tenantColumn]);
        for (const column of spec.columns) {
          const value = row[column];
          if (typeof value === "string" && isEncryptedField(value))
            yield { context: { tenantId, table: spec.table, rowId, column }, ciphertext: value };
        }
        after = rowId;
      }
      if (rows.rows.length < batchSize) return;
    }
  }

  return rewrapFields(cipher, fields(), async (field, ciphertext) => {
    const column = sql.ref(field.context.column);
    const result = await attempt(`re-wrapping ${spec.table}.${field.context.column}`, () =>
      sql`update ${sql.table(spec.table)} set ${column} = ${ciphertext} where ${id} = ${field.context.rowId} and ${column} = ${field.ciphertext}`.execute(
        db,
      ),
    );
    return (result.numAffectedRows ?? 0n) > 0n;
  });
}

/**
 * What a `modelport keys rewrap` command (or an admin endpoint) calls: every listed table, one
 * after another, with one audit entry for the whole run.
 */
export async function rewrapStoredData(
  database: Pick<DatabaseHandle, "db" | "dialect">,
  cipher: FieldCipher,
  tables: readonly EncryptedColumns[],
  options: { batchSize?: number; audit?: AuditRecorder; actor?: string } = {},
): Promise<{ tables: Record<string, RewrapReport>; total: RewrapReport }> {
  const reports: Record<string, RewrapReport> = {};
  const total = emptyReport();
  for (const spec of tables) {
    const report = await rewrapTable(database, cipher, spec, options);
    reports[spec.table] = report;
    total.scanned += report.scanned;
    total.rewrapped += report.rewrapped;
    total.alreadyCurrent += report.alreadyCurrent;
    total.skipped += report.skipped;
    total.shredded += report.shredded;
    total.failed += report.failed;
    total.failures.push(...report.failures.slice(0, Math.max(0, 20 - total.failures.length)));
  }
  await options.audit?.record({
    action: "data-reencrypted",
    actor: options.actor ?? "system",
    target: tables.map((spec) => spec.table).join(","),
    details: { scanned: total.scanned, rewrapped: total.rewrapped, failed: total.failed, shredded: total.shredded },
  });
  return { tables: reports, total };
}
