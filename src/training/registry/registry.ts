import { chmod, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { AuditEventInput, AuditRecorder } from "../../core/audit.js";
import { type Clock, systemClock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import type { StorageDialect } from "../../storage/ordering.js";
import type { Database } from "../../storage/schema.js";
import {
  copyArtifact,
  detectFormat,
  digestDirectory,
  onnxFileName,
  readOptionalJson,
  tfjsFileName,
} from "./artifact-files.js";
import { generateModelCard } from "./model-card.js";
import { checkPromotion, defaultPromotionThreshold, type GateDecision } from "./promotion-gate.js";
import { type ReferenceInput, resolveReferenceProfile } from "./reference-profile.js";
import { createRegistryStore, type VersionRow } from "./registry-store.js";
import { flatMetrics, inferTask, parseLineage, parseSignature } from "./signature.js";
import {
  type AliasChange,
  globalNamespace,
  type ModelLineage,
  type ModelListEntry,
  type ModelVersion,
  type VerifiedArtifact,
} from "./types.js";

export interface ModelRegistryOptions {
  db: Kysely<Database>;
  dialect: StorageDialect;
  /** Artifacts go to `<dataDir>/models/<name>/<version>/` (`models/@<tenant>/<name>/...` for tenants). */
  dataDir: string;
  /** A tenant id, or omitted for the global (operator) namespace. */
  namespace?: string;
  clock?: Clock;
  /** Receives `model-registered` and `model-promoted` events. */
  audit?: AuditRecorder;
  /** A failed audit write does not undo a promotion; it is reported here. */
  onAuditError?: (error: unknown) => void;
  /** Absolute drop of the primary metric the gate tolerates (default 0.01). */
  promotionThreshold?: number;
}

export interface RegisterOptions {
  name: string;
  /** A directory (model.json or model.onnx, plus signature.json, preprocessor.json, metrics.json) or an .onnx file. */
  artifact: string;
  /** Merged over the artifact's lineage.json, if any. */
  lineage?: ModelLineage;
  /** Replaces metrics.json's flat metrics (external runs that log metrics elsewhere). */
  metrics?: Record<string, number>;
  /** The card's intended-use paragraph. */
  description?: string;
  actor?: string;
  /**
   * A drift reference profile for an artifact without reference-profile.json (an external ONNX
   * file): a profile .json, or a .csv of reference rows named like the model's inputs.
   */
  reference?: ReferenceInput;
}

export interface PromoteOptions {
  /** Promote even when the gate refuses; the reason is kept in the alias history. */
  override?: { reason: string };
  actor?: string;
}

export interface PromotionResult {
  version: ModelVersion;
  change: AliasChange;
  decision: GateDecision;
}

export interface ModelRegistry {
  readonly namespace: string;
  /** The same registry scoped to another namespace (a tenant id, or `_global`). */
  forNamespace(namespace: string): ModelRegistry;
  register(options: RegisterOptions): Promise<ModelVersion>;
  /** MP_NOT_FOUND when absent. */
  get(name: string, version: number): Promise<ModelVersion>;
  /** `ref` is a version number, an alias, or omitted for the newest version. */
  resolve(name: string, ref?: string): Promise<ModelVersion>;
  /** The version an alias points at, or undefined. */
  resolveAlias(name: string, alias: string): Promise<number | undefined>;
  versions(name: string): Promise<ModelVersion[]>;
  /** CONTRACT.md's `models list --json` rows: every version, by name then newest first. */
  listModels(): Promise<ModelListEntry[]>;
  promote(name: string, version: number, alias: string, options?: PromoteOptions): Promise<PromotionResult>;
  aliasHistory(name: string, alias?: string): Promise<AliasChange[]>;
  /** The drift reference profile recorded with the version (JSON, see monitoring/drift), or undefined. */
  referenceProfile(name: string, version: number): Promise<unknown>;
  /** Verifies the stored files against the recorded sha256 and returns what a runtime needs. */
  open(name: string, version: number): Promise<VerifiedArtifact>;
  directoryOf(name: string, version: number): string;
}

const namePattern = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/** Aliases look like names but are never all digits, so `name@3` always means version 3. */
const aliasPattern = /^(?![0-9]+$)[a-z0-9][a-z0-9._-]{0,99}$/;
const versionPattern = /^[0-9]{1,9}$/;

export function validateModelName(name: string): string {
  if (!namePattern.test(name))
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `model name '${name}' must be lowercase letters, digits, '.', '_' or '-' (starting with a letter or digit)`,
      { param: "name" },
    );
  return name;
}

export function validateAlias(alias: string): string {
  if (!aliasPattern.test(alias))
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `alias '${alias}' must be lowercase letters, digits, '.', '_' or '-', and not only digits`,
      { param: "alias" },
    );
  return alias;
}

/** Splits `NAME`, `NAME@VERSION` or `NAME@ALIAS`. */
export function parseModelRef(ref: string): { name: string; version?: number; alias?: string } {
  const at = ref.indexOf("@");
  const name = validateModelName(at < 0 ? ref : ref.slice(0, at));
  if (at < 0) return { name };
  const rest = ref.slice(at + 1);
  if (versionPattern.test(rest)) return { name, version: Number(rest) };
  return { name, alias: validateAlias(rest) };
}

function notFound(message: string): ModelportError {
  return new ModelportError("MP_NOT_FOUND", message, { param: "model" });
}

async function makeReadOnly(directory: string): Promise<void> {
  // Defence in depth only (root ignores modes): the sha256 check on load is the real guarantee.
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  for (const entry of entries) if (entry.isFile()) await chmod(join(entry.parentPath, entry.name), 0o444);
}

export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const store = createRegistryStore(options.db, options.dialect);
  const clock = options.clock ?? systemClock;
  const threshold = options.promotionThreshold ?? defaultPromotionThreshold;
  const namespace = options.namespace ?? globalNamespace;
  if (namespace !== globalNamespace && !/^[A-Za-z0-9_-]{1,100}$/.test(namespace))
    throw new ModelportError("MP_INVALID_REQUEST", `namespace '${namespace}' is not a tenant id`);
  const modelsRoot =
    namespace === globalNamespace ? join(options.dataDir, "models") : join(options.dataDir, "models", `@${namespace}`);
  const now = () => new Date(clock.now()).toISOString();
  const directoryOf = (name: string, version: number) => join(modelsRoot, name, String(version));

  /** The registry change already happened; a failed audit write is reported, not thrown. */
  async function recordAudit(event: AuditEventInput): Promise<void> {
    if (!options.audit) return;
    try {
      await options.audit.record(event);
    } catch (error) {
      options.onAuditError?.(error);
    }
  }

  async function withAliases(rows: VersionRow[]): Promise<ModelVersion[]> {
    if (rows.length === 0) return [];
    const aliases = await store.aliases(namespace);
    const profiles = await store.profileSummaries(namespace, rows.length === 1 ? rows[0]?.name : undefined);
    return rows.map((row) => ({
      ...row,
      aliases: [...aliases]
        .filter(([key, version]) => version === row.version && key.startsWith(`${row.name}@`))
        .map(([key]) => key.slice(row.name.length + 1))
        .sort(),
      referenceProfile: profiles.get(`${row.name}@${row.version}`) ?? null,
    }));
  }

  async function get(name: string, version: number): Promise<ModelVersion> {
    const row = await store.getVersion(namespace, validateModelName(name), version);
    if (row === undefined) throw notFound(`model ${name} has no version ${version}`);
    const [withAlias] = await withAliases([row]);
    return withAlias as ModelVersion;
  }

  async function register(input: RegisterOptions): Promise<ModelVersion> {
    const name = validateModelName(input.name);
    const actor = input.actor ?? "admin";
    const modelRoot = join(modelsRoot, name);
    await mkdir(modelRoot, { recursive: true });
    const staging = join(modelRoot, `.incoming-${process.pid}-${clock.now()}-${Math.random().toString(36).slice(2)}`);
    try {
      await copyArtifact(input.artifact, staging);
      const { sha256, files } = await digestDirectory(staging);
      const format = detectFormat(files, input.artifact);
      const signatureJson = await readOptionalJson(join(staging, "signature.json"));
      // The trainer writes labels beside the signature (`"labels": "labels.json"`): inline them.
      const labelsRef = (signatureJson as { labels?: unknown } | undefined)?.labels;
      if (typeof labelsRef === "string" && /^[A-Za-z0-9._-]+\.json$/.test(labelsRef))
        (signatureJson as { labels?: unknown }).labels = await readOptionalJson(join(staging, labelsRef));
      // A regression artifact says `"labels": null`: it has none.
      if (labelsRef === null) delete (signatureJson as { labels?: unknown }).labels;
      const signature = signatureJson === undefined ? null : parseSignature(signatureJson, "signature.json");
      if (format === "tfjs" && files.includes("preprocessor.json") && signature === null)
        throw new ModelportError(
          "MP_INVALID_REQUEST",
          "an artifact with preprocessor.json needs signature.json (the raw inputs it accepts)",
          { param: "artifact" },
        );
      const metrics = input.metrics ?? flatMetrics(await readOptionalJson(join(staging, "metrics.json")));
      const lineage = parseLineage(
        { ...((await readOptionalJson(join(staging, "lineage.json"))) as object | undefined), ...input.lineage },
        "lineage",
      );
      const task = inferTask(signature, metrics);
      const reference = await resolveReferenceProfile(staging, input.reference, signature);
      const referenceProfile =
        reference === undefined ? null : { source: reference.source, rows: reference.rows, columns: reference.columns };
      await makeReadOnly(staging);
      // Version numbers are max+1; a concurrent registration that wins the number makes us retry.
      for (let attempt = 0; attempt < 20; attempt++) {
        const version = (await store.latestVersionNumber(namespace, name)) + 1;
        const createdAt = now();
        const card = generateModelCard({
          name,
          version,
          createdAt,
          sha256,
          format,
          task,
          signature,
          metrics,
          lineage,
          description: input.description,
          referenceProfile,
        });
        const row: VersionRow = {
          namespace,
          name,
          version,
          createdAt,
          createdBy: actor,
          sha256,
          format,
          task,
          signature,
          metrics,
          lineage,
          card,
        };
        if (!(await store.insertVersion(row, reference))) continue;
        const target = directoryOf(name, version);
        try {
          // A directory left by a crash before its row existed belongs to nobody.
          await rm(target, { recursive: true, force: true });
          await rename(staging, target);
        } catch (error) {
          await store.deleteVersion(namespace, name, version);
          throw new ModelportError("MP_STORAGE_ERROR", `cannot store the artifact of ${name} v${version}`, {
            cause: error,
          });
        }
        await recordAudit({
          action: "model-registered",
          actor,
          tenantId: namespace === globalNamespace ? null : namespace,
          target: `${name}@${version}`,
          details: { version, sha256, format, runId: lineage.runId ?? null },
        });
        return { ...row, aliases: [], referenceProfile };
      }
      throw new ModelportError("MP_CONFLICT", `too many concurrent registrations of ${name}; try again`);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  const registry: ModelRegistry = {
    namespace,
    forNamespace: (other) => createModelRegistry({ ...options, namespace: other }),
    register,
    get,

    async resolve(name, ref) {
      validateModelName(name);
      if (ref === undefined || ref === "") {
        const latest = await store.latestVersionNumber(namespace, name);
        if (latest === 0) throw notFound(`model ${name} is not registered`);
        return get(name, latest);
      }
      if (versionPattern.test(ref)) return get(name, Number(ref));
      const version = await store.aliasVersion(namespace, name, validateAlias(ref));
      if (version === undefined) throw notFound(`model ${name} has no alias '${ref}'`);
      return get(name, version);
    },

    resolveAlias: (name, alias) => store.aliasVersion(namespace, name, alias),

    async versions(name) {
      return withAliases(await store.listVersions(namespace, validateModelName(name)));
    },

    async listModels() {
      const versions = await withAliases(await store.listVersions(namespace));
      return versions.map(({ name, version, aliases, metrics }) => ({ name, version, aliases, metrics }));
    },

    async promote(name, version, alias, promoteOptions = {}) {
      validateAlias(alias);
      const candidate = await get(name, version);
      const fromVersion = (await store.aliasVersion(namespace, name, alias)) ?? null;
      const current = fromVersion === null ? undefined : await get(name, fromVersion);
      const decision = checkPromotion(candidate, current, threshold);
      const overrideReason = promoteOptions.override?.reason?.trim();
      if (promoteOptions.override !== undefined && !overrideReason)
        throw new ModelportError("MP_INVALID_REQUEST", "an override needs a reason", { param: "reason" });
      if (!decision.allowed && overrideReason === undefined)
        throw new ModelportError(
          "MP_PROMOTION_REFUSED",
          `promotion of ${name} v${version} to '${alias}' refused: ${decision.reason}; override with a reason to promote anyway`,
          { param: "version" },
        );
      const actor = promoteOptions.actor ?? "admin";
      const change: AliasChange = {
        name,
        alias,
        fromVersion,
        toVersion: version,
        actor,
        reason: overrideReason ?? null,
        overridden: !decision.allowed,
        createdAt: now(),
      };
      await store.moveAlias(namespace, change, fromVersion);
      await recordAudit({
        action: "model-promoted",
        actor,
        tenantId: namespace === globalNamespace ? null : namespace,
        target: `${name}@${alias}`,
        details: {
          version,
          fromVersion,
          overridden: change.overridden,
          reason: change.reason,
          sha256: candidate.sha256,
        },
      });
      return {
        version: { ...candidate, aliases: [...new Set([...candidate.aliases, alias])].sort() },
        change,
        decision,
      };
    },

    aliasHistory: (name, alias) => store.history(namespace, validateModelName(name), alias),

    referenceProfile: (name, version) => store.referenceProfile(namespace, validateModelName(name), version),

    async open(name, version) {
      const record = await get(name, version);
      const directory = directoryOf(name, version);
      try {
        await stat(directory);
      } catch (error) {
        throw new ModelportError(
          "MP_ARTIFACT_MODIFIED",
          `the artifact of ${name} v${version} is missing from ${directory}`,
          { cause: error },
        );
      }
      const { sha256 } = await digestDirectory(directory);
      if (sha256 !== record.sha256)
        throw new ModelportError(
          "MP_ARTIFACT_MODIFIED",
          `the artifact of ${name} v${version} in ${directory} was modified after registration (sha256 ${sha256} != recorded ${record.sha256}); refusing to load it, register the files as a new version instead`,
        );
      return {
        record,
        directory,
        modelPath: join(directory, record.format === "tfjs" ? tfjsFileName : onnxFileName),
        preprocessor: await readOptionalJson(join(directory, "preprocessor.json")),
      };
    },

    directoryOf,
  };
  return registry;
}
