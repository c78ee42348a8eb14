import type { Kysely } from "kysely";
import type { SettingsRepository } from "../../core/storage.js";
import { attempt } from "../errors.js";
import type { Database } from "../schema.js";

export function createSettingsRepository(db: Kysely<Database>): SettingsRepository {
  return {
    async get(key) {
      const row = await attempt(`reading setting '${key}'`, () =>
        db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst(),
      );
      return row?.value;
    },

    async set(key, value) {
      await attempt(`writing setting '${key}'`, () =>
        db
          .insertInto("settings")
          .values({ key, value })
          .onConflict((conflict) => conflict.column("key").doUpdateSet({ value }))
          .execute(),
      );
    },

    async setIfAbsent(key, value) {
      // One statement, so two processes bootstrapping at once cannot both win: the database
      // decides, and the affected-row count says whether this call was the one that inserted.
      const result = await attempt(`writing setting '${key}'`, () =>
        db
          .insertInto("settings")
          .values({ key, value })
          .onConflict((conflict) => conflict.column("key").doNothing())
          .executeTakeFirst(),
      );
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },
  };
}
