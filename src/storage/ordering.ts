import { type RawBuilder, sql } from "kysely";
import type { Storage } from "../core/storage.js";

export type StorageDialect = Storage["dialect"];

/**
 * A column reference that sorts by bytes in both dialects. SQLite's default collation is already
 * BINARY, but a PostgreSQL database created with a linguistic locale (en_US, ICU) sorts `ten_B`
 * after `ten_a`; `collate "C"` keeps list order identical on both, as the contract promises.
 */
export function byteOrder(dialect: StorageDialect, column: string): RawBuilder<unknown> {
  return dialect === "postgres" ? sql`${sql.ref(column)} collate "C"` : sql`${sql.ref(column)}`;
}
