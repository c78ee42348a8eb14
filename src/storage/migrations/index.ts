import type { Migration, MigrationProvider } from "kysely";
import { initialMigration } from "./0001-initial.js";
import { commerceMigration } from "./0002-commerce.js";
import { privacyMigration } from "./0003-privacy.js";
import { datasetsMigration } from "./0004-datasets.js";
import { accessMigration } from "./0005-access.js";
import { requestLogMigration } from "./0006-request-log.js";
import { alertsMigration } from "./0007-alerts.js";
import { monitoringMigration } from "./0008-monitoring.js";
import { registryMigration } from "./0009-registry.js";
import { trainingMigration } from "./0010-training.js";
import { driftMigration } from "./0011-drift.js";

/**
 * Every migration, oldest first. Kysely applies them in the alphabetical order of their names,
 * so names start with a zero-padded sequence number that matches the file name. To change the
 * schema, add `NNNN-what.ts` exporting a `Migration`, list it here, and update `../schema.ts`;
 * never edit a migration that has shipped.
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  "0001-initial": initialMigration,
  "0002-commerce": commerceMigration,
  "0003-privacy": privacyMigration,
  "0004-datasets": datasetsMigration,
  "0005-access": accessMigration,
  "0006-request-log": requestLogMigration,
  "0007-alerts": alertsMigration,
  "0008-monitoring": monitoringMigration,
  "0009-registry": registryMigration,
  "0010-training": trainingMigration,
  "0011-drift": driftMigration,
});

/** A static provider (no filesystem globbing), so migrations work from any bundle or cwd. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
