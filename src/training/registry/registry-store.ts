import type { Kysely, Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import { attempt } from "../../storage/errors.js";
import { byteOrder, type StorageDialect } from "../../storage/ordering.js";
import type { Database, ModelAliasHistoryTable, ModelVersionsTable } from "../../storage/schema.js";
import type { AliasChange, ArtifactFormat, ModelTask, ModelVersion, ReferenceProfileSummary } from "./types.js";

/** The registry's tables. Every method filters on the namespace: no cross-tenant read. */
export type VersionRow = Omit<ModelVersion, "aliases" | "referenceProfile">;

/** A drift reference profile stored with its version (the profile is JSON-serializable). */
export interface StoredReferenceProfile {
  source: ReferenceProfileSummary["source"];
  rows: number;
  columns: string[];
  profile: unknown;
}

export interface RegistryStore {
  /**
   * Inserts the version (and its reference profile, in the same transaction); false when
   * (namespace, name, version) exists (a concurrent registration took it).
   */
  insertVersion(row: VersionRow, reference?: StoredReferenceProfile): Promise<boolean>;
  /** `name@version` → profile summary, for one model's versions or every model's. */
  profileSummaries(namespace: string, name?: string): Promise<Map<string, ReferenceProfileSummary>>;
  /** The stored profile JSON of one version, or undefined when it has none. */
  referenceProfile(namespace: string, name: string, version: number): Promise<unknown>;
  latestVersionNumber(namespace: string, name: string): Promise<number>;
  getVersion(namespace: string, name: string, version: number): Promise<VersionRow | undefined>;
  deleteVersion(namespace: string, name: string, version: number): Promise<void>;
  /** Every version, by name (byte order) then newest first; one model's when `name` is given. */
  listVersions(namespace: string, name?: string): Promise<VersionRow[]>;
  /** alias → version for one model, or for every model (`name@alias` keys) when `name` is absent. */
  aliases(namespace: string, name?: string): Promise<Map<string, number>>;
  aliasVersion(namespace: string, name: string, alias: string): Promise<number | undefined>;
  /**
   * Moves the alias and appends to its history in one transaction. `expectedFrom` is the version
   * the gate was checked against; if another promotion moved the alias meanwhile, MP_CONFLICT.
   */
  moveAlias(namespace: string, change: AliasChange, expectedFrom: number | null): Promise<void>;
  history(namespace: string, name: string, alias?: string): Promise<AliasChange[]>;
}

function toVersion(row: Selectable<ModelVersionsTable>): VersionRow {
  return {
    namespace: row.namespace,
    name: row.name,
    version: Number(row.version),
    createdAt: row.created_at,
    createdBy: row.created_by,
    sha256: row.sha256,
    format: row.format as ArtifactFormat,
    task: row.task as ModelTask | null,
    signature: row.signature === null ? null : JSON.parse(row.signature),
    metrics: JSON.parse(row.metrics),
    lineage: JSON.parse(row.lineage),
    card: row.card,
  };
}

function toChange(row: Selectable<ModelAliasHistoryTable>): AliasChange {
  return {
    name: row.name,
    alias: row.alias,
    fromVersion: row.from_version === null ? null : Number(row.from_version),
    toVersion: Number(row.to_version),
    actor: row.actor,
    reason: row.reason,
    overridden: Number(row.overridden) === 1,
    createdAt: row.created_at,
  };
}

export function createRegistryStore(db: Kysely<Database>, dialect: StorageDialect): RegistryStore {
  return {
    async insertVersion(row, reference) {
      try {
        await attempt(
          "recording a model version",
          () =>
            db.transaction().execute(async (trx) => {
              await trx
                .insertInto("model_versions")
                .values({
                  namespace: row.namespace,
                  name: row.name,
                  version: row.version,
                  created_at: row.createdAt,
                  created_by: row.createdBy,
                  sha256: row.sha256,
                  format: row.format,
                  task: row.task,
                  signature: row.signature === null ? null : JSON.stringify(row.signature),
                  metrics: JSON.stringify(row.metrics),
                  lineage: JSON.stringify(row.lineage),
                  card: row.card,
                })
                .execute();
              if (reference === undefined) return;
              await trx
                .insertInto("model_reference_profiles")
                .values({
                  namespace: row.namespace,
                  name: row.name,
                  version: row.version,
                  source: reference.source,
                  rows: reference.rows,
                  columns: JSON.stringify(reference.columns),
                  profile: JSON.stringify(reference.profile),
                  created_at: row.createdAt,
                })
                .execute();
            }),
          (violation) =>
            violation.kind === "unique" ? new ModelportError("MP_CONFLICT", "version exists") : undefined,
        );
        return true;
      } catch (error) {
        if (error instanceof ModelportError && error.code === "MP_CONFLICT") return false;
        throw error;
      }
    },

    async profileSummaries(namespace, name) {
      let query = db
        .selectFrom("model_reference_profiles")
        .select(["name", "version", "source", "rows", "columns"])
        .where("namespace", "=", namespace);
      if (name !== undefined) query = query.where("name", "=", name);
      const rows = await attempt("reading reference profile summaries", () => query.execute());
      return new Map(
        rows.map((row) => [
          `${row.name}@${Number(row.version)}`,
          {
            source: row.source as ReferenceProfileSummary["source"],
            rows: Number(row.rows),
            columns: JSON.parse(row.columns) as string[],
          },
        ]),
      );
    },

    async referenceProfile(namespace, name, version) {
      const row = await attempt("reading a reference profile", () =>
        db
          .selectFrom("model_reference_profiles")
          .select("profile")
          .where("namespace", "=", namespace)
          .where("name", "=", name)
          .where("version", "=", version)
          .executeTakeFirst(),
      );
      return row === undefined ? undefined : JSON.parse(row.profile);
    },

    async latestVersionNumber(namespace, name) {
      const row = await attempt("reading the latest model version", () =>
        db
          .selectFrom("model_versions")
          .select((eb) => eb.fn.max("version").as("latest"))
          .where("namespace", "=", namespace)
          .where("name", "=", name)
          .executeTakeFirst(),
      );
      return row?.latest === null || row?.latest === undefined ? 0 : Number(row.latest);
    },

    async getVersion(namespace, name, version) {
      const row = await attempt("reading a model version", () =>
        db
          .selectFrom("model_versions")
          .selectAll()
          .where("namespace", "=", namespace)
          .where("name", "=", name)
          .where("version", "=", version)
          .executeTakeFirst(),
      );
      return row === undefined ? undefined : toVersion(row);
    },

    async deleteVersion(namespace, name, version) {
      await attempt("removing a model version", () =>
        db.transaction().execute(async (trx) => {
          for (const table of ["model_reference_profiles", "model_versions"] as const)
            await trx
              .deleteFrom(table)
              .where("namespace", "=", namespace)
              .where("name", "=", name)
              .where("version", "=", version)
              .execute();
        }),
      );
    },

    async listVersions(namespace, name) {
      let query = db.selectFrom("model_versions").selectAll().where("namespace", "=", namespace);
      if (name !== undefined) query = query.where("name", "=", name);
      const rows = await attempt("listing model versions", () =>
        query.orderBy(byteOrder(dialect, "name")).orderBy("version", "desc").execute(),
      );
      return rows.map(toVersion);
    },

    async aliases(namespace, name) {
      let query = db.selectFrom("model_aliases").selectAll().where("namespace", "=", namespace);
      if (name !== undefined) query = query.where("name", "=", name);
      const rows = await attempt("reading model aliases", () => query.execute());
      return new Map(
        rows.map((row) => [name === undefined ? `${row.name}@${row.alias}` : row.alias, Number(row.version)]),
      );
    },

    async aliasVersion(namespace, name, alias) {
      const row = await attempt("resolving a model alias", () =>
        db
          .selectFrom("model_aliases")
          .select("version")
          .where("namespace", "=", namespace)
          .where("name", "=", name)
          .where("alias", "=", alias)
          .executeTakeFirst(),
      );
      return row === undefined ? undefined : Number(row.version);
    },

    async moveAlias(namespace, change, expectedFrom) {
      await attempt(
        "moving a model alias",
        () =>
          db.transaction().execute(async (trx) => {
            if (expectedFrom === null) {
              // A unique violation here means another promotion created the alias first.
              await trx
                .insertInto("model_aliases")
                .values({
                  namespace,
                  name: change.name,
                  alias: change.alias,
                  version: change.toVersion,
                  updated_at: change.createdAt,
                })
                .execute();
            } else {
              const result = await trx
                .updateTable("model_aliases")
                .set({ version: change.toVersion, updated_at: change.createdAt })
                .where("namespace", "=", namespace)
                .where("name", "=", change.name)
                .where("alias", "=", change.alias)
                .where("version", "=", expectedFrom)
                .executeTakeFirst();
              if (Number(result.numUpdatedRows) !== 1)
                throw new ModelportError(
                  "MP_CONFLICT",
                  `alias ${change.name}@${change.alias} moved while this promotion was checked; try again`,
                );
            }
            await trx
              .insertInto("model_alias_history")
              .values({
                id: randomId("alh"),
                namespace,
                name: change.name,
                alias: change.alias,
                from_version: change.fromVersion,
                to_version: change.toVersion,
                actor: change.actor,
                reason: change.reason,
                overridden: change.overridden ? 1 : 0,
                created_at: change.createdAt,
              })
              .execute();
          }),
        (violation) =>
          violation.kind === "unique"
            ? new ModelportError(
                "MP_CONFLICT",
                `alias ${change.name}@${change.alias} was created while this promotion was checked; try again`,
              )
            : undefined,
      );
    },

    async history(namespace, name, alias) {
      let query = db
        .selectFrom("model_alias_history")
        .selectAll()
        .where("namespace", "=", namespace)
        .where("name", "=", name);
      if (alias !== undefined) query = query.where("alias", "=", alias);
      const rows = await attempt("reading alias history", () =>
        query.orderBy(byteOrder(dialect, "created_at")).orderBy(byteOrder(dialect, "id")).execute(),
      );
      return rows.map(toChange);
    },
  };
}
