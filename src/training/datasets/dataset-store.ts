import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { type Clock, systemClock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import type { StorageDialect } from "../../storage/ordering.js";
import type { Database } from "../../storage/schema.js";
import { type CanonicalDataset, canonicalize, canonicalJson, parseCanonical } from "./canonical.js";
import {
  createDatasetVersionRepository,
  type DatasetVersionRecord,
  type DatasetVersionRepository,
} from "./dataset-version-repository.js";
import { describeExample, loadExample } from "./examples.js";
import { inferSchema } from "./infer-schema.js";
import { type AppliedPolicy, applyCellPolicy } from "./pii-policy.js";
import type { PiiCellPolicy, PiiScanner } from "./pii-scanner.js";
import { qualityReport } from "./quality-report.js";
import { readCsv } from "./read-csv.js";
import { readImageFolder } from "./read-image-folder.js";
import { readJsonl } from "./read-jsonl.js";
import { type DatasetSplit, type SplitFractions, splitDataset } from "./split.js";
import type { DatasetSource, DatasetVersion, DataTable, DeclaredSchema } from "./types.js";

export interface DatasetStoreOptions {
  db: Kysely<Database>;
  dialect: StorageDialect;
  /** The server's data dir; versions live under `<dataDir>/datasets/<tenant>/<name>/<sha256>/`. */
  dataDir: string;
  clock?: Clock;
  /** Counts PII in string columns for the quality report (the privacy module's detector). */
  piiScanner?: PiiScanner;
  /** Scan at most this many cells per column (default: all). */
  piiMaxCellsPerColumn?: number;
}

export interface ImportRequest extends DeclaredSchema {
  /** Lowercase letters, digits, `.`, `_`, `-`; starts with a letter or digit; ≤ 64 characters. */
  name: string;
  source: DatasetSource;
  /** Applied to the cells before the version is hashed and written (see pii-policy.ts). */
  piiPolicy?: PiiCellPolicy | undefined;
}

export interface ImportResult {
  version: DatasetVersion;
  /** False when this exact content was already a version of this dataset. */
  created: boolean;
  /** Milliseconds per phase, for `--verbose` and benchmarks. */
  timings: { read: number; canonicalize: number; analyse: number; write: number };
}

export interface LoadedDataset {
  version: DatasetVersion;
  table: DataTable;
}

export interface DatasetStore {
  import(tenantId: string, request: ImportRequest): Promise<ImportResult>;
  /** By name, newest first. */
  list(tenantId: string, name?: string): Promise<DatasetVersion[]>;
  /** `version`: a full sha256, a unique prefix of ≥ 4 hex digits, or absent for the latest. */
  get(tenantId: string, name: string, version?: string): Promise<DatasetVersion>;
  /** Reads the rows back; by default re-hashes the file and fails if it no longer matches. */
  load(tenantId: string, name: string, version?: string, options?: { verify?: boolean }): Promise<LoadedDataset>;
}

const namePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const tenantPattern = /^[A-Za-z0-9_-]{1,128}$/;
const shaPattern = /^[0-9a-f]{64}$/;
const prefixPattern = /^[0-9a-f]{4,63}$/;

export function checkDatasetName(name: string): void {
  if (!namePattern.test(name)) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `dataset name '${name}' is invalid: use lowercase letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)`,
      { param: "name" },
    );
  }
}

/** `spam`, `spam@3fa2c1d0` → name and optional version (prefix). */
export function parseDatasetReference(reference: string): { name: string; version?: string } {
  const at = reference.indexOf("@");
  const name = at < 0 ? reference : reference.slice(0, at);
  checkDatasetName(name);
  if (at < 0) return { name };
  const version = reference.slice(at + 1).toLowerCase();
  if (!prefixPattern.test(version) && !shaPattern.test(version)) {
    throw new ModelportError("MP_INVALID_REQUEST", `'${reference}': the version must be 4–64 hex digits`, {
      param: "version",
    });
  }
  return { name, version };
}

async function readSource(
  source: DatasetSource,
  fingerprint: string | undefined,
): Promise<{ table: DataTable; declared: DeclaredSchema; origin: DatasetVersion["source"] }> {
  switch (source.kind) {
    case "csv":
      return { table: await readCsv(source.path, source), declared: {}, origin: { kind: "csv", path: source.path } };
    case "jsonl":
      return { table: await readJsonl(source.path), declared: {}, origin: { kind: "jsonl", path: source.path } };
    case "images": {
      const table = await readImageFolder(source.path, source);
      return {
        table: { columns: table.columns, rows: table.rows },
        declared: { shapes: { image: table.shape }, ...(table.columns.includes("label") ? { label: "label" } : {}) },
        origin: { kind: "images", path: source.path },
      };
    }
    case "example": {
      const example = await loadExample(source.example);
      return {
        table: example.table,
        declared: example.declared,
        origin: { kind: "example", example: source.example, description: example.source, fingerprint },
      };
    }
    case "table":
      return {
        table: source.table,
        declared: {},
        origin: { kind: "table", ...(source.description === undefined ? {} : { description: source.description }) },
      };
    default:
      throw new ModelportError("MP_INVALID_REQUEST", "unknown dataset source kind", { param: "source" });
  }
}

/** The source's own declarations, overridden field by field by the request's. */
function mergeDeclared(base: DeclaredSchema, request: DeclaredSchema): DeclaredSchema {
  const merged: DeclaredSchema = {};
  const label = request.label !== undefined ? request.label : base.label;
  if (label !== undefined) merged.label = label;
  for (const key of ["types", "ranges", "shapes"] as const) {
    const value = { ...base[key], ...request[key] };
    if (Object.keys(value).length > 0) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function createDatasetStore(options: DatasetStoreOptions): DatasetStore {
  const clock = options.clock ?? systemClock;
  const repository: DatasetVersionRepository = createDatasetVersionRepository(options.db, options.dialect);
  const root = join(options.dataDir, "datasets");

  const directoryOf = (tenantId: string, name: string, version: string) => join(root, tenantId, name, version);
  const withDirectory = (record: DatasetVersionRecord): DatasetVersion => ({
    ...record,
    directory: directoryOf(record.tenantId, record.name, record.version),
  });
  const checkTenant = (tenantId: string) => {
    if (!tenantPattern.test(tenantId)) {
      throw new ModelportError("MP_INVALID_REQUEST", `invalid tenant id '${tenantId}'`, { param: "tenant" });
    }
  };

  /** Writes data.jsonl and meta.json into a temp dir, then renames it into place (atomic, immutable). */
  async function writeFiles(record: DatasetVersionRecord, canonical: CanonicalDataset): Promise<boolean> {
    const target = directoryOf(record.tenantId, record.name, record.version);
    if (await exists(join(target, "data.jsonl"))) return false;
    const parent = join(root, record.tenantId, record.name);
    await mkdir(parent, { recursive: true });
    const temporary = join(parent, `.tmp-${randomBytes(6).toString("hex")}`);
    await mkdir(temporary);
    try {
      await writeFile(join(temporary, "data.jsonl"), canonical.chunks);
      await writeFile(join(temporary, "meta.json"), `${JSON.stringify(record, null, 2)}\n`);
      await rm(target, { recursive: true, force: true }); // a half-written leftover without data.jsonl
      await rename(temporary, target);
      return true;
    } catch (error) {
      await rm(temporary, { recursive: true, force: true });
      // Another import of the same content won the rename: its files are the same bytes.
      if (await exists(join(target, "data.jsonl"))) return false;
      throw new ModelportError("MP_STORAGE_ERROR", `cannot write dataset files under ${parent}`, { cause: error });
    }
  }

  async function resolve(tenantId: string, name: string, version: string | undefined): Promise<DatasetVersionRecord> {
    checkTenant(tenantId);
    checkDatasetName(name);
    let record: DatasetVersionRecord | undefined;
    if (version === undefined) {
      record = await repository.latest(tenantId, name);
    } else {
      const wanted = version.toLowerCase();
      if (shaPattern.test(wanted)) {
        record = await repository.get(tenantId, name, wanted);
      } else if (prefixPattern.test(wanted)) {
        const matches = await repository.findByPrefix(tenantId, name, wanted, 2);
        if (matches.length > 1) {
          throw new ModelportError("MP_INVALID_REQUEST", `version prefix '${version}' of ${name} is ambiguous`, {
            param: "version",
          });
        }
        record = matches[0];
      } else {
        throw new ModelportError("MP_INVALID_REQUEST", `version '${version}' must be 4–64 hex digits`, {
          param: "version",
        });
      }
    }
    if (record === undefined) {
      throw new ModelportError(
        "MP_NOT_FOUND",
        version === undefined ? `no dataset named '${name}'` : `dataset '${name}' has no version '${version}'`,
        { param: "name" },
      );
    }
    return record;
  }

  return {
    async import(tenantId, request) {
      checkTenant(tenantId);
      checkDatasetName(request.name);
      let started = performance.now();
      // An npm example at a given package version is immutable: when this tenant already imported
      // it with the same declarations, answer from the database instead of re-reading ~30 MB.
      let fingerprint: string | undefined;
      if (request.source.kind === "example") {
        const example = describeExample(request.source.example);
        fingerprint = createHash("sha256")
          .update(
            canonicalJson({
              source: example.source,
              declared: mergeDeclared(example.declared, request),
              // A policy changes the stored cells: the same example under another policy is another version.
              ...(request.piiPolicy === undefined ? {} : { piiPolicy: request.piiPolicy.fingerprint }),
            }),
          )
          .digest("hex");
        const known = (await repository.list(tenantId, request.name)).find(
          (version) => version.source.fingerprint === fingerprint,
        );
        if (
          known !== undefined &&
          (await exists(join(directoryOf(tenantId, known.name, known.version), "data.jsonl")))
        ) {
          const elapsed = performance.now() - started;
          return {
            version: withDirectory(known),
            created: false,
            timings: { read: elapsed, canonicalize: 0, analyse: 0, write: 0 },
          };
        }
      }
      const source = await readSource(request.source, fingerprint);
      const { declared, origin } = source;
      // Before anything is hashed or written: a block stops the import here.
      const applied: AppliedPolicy | undefined =
        request.piiPolicy === undefined ? undefined : applyCellPolicy(source.table, request.piiPolicy);
      const table = applied?.table ?? source.table;
      const read = performance.now() - started;

      started = performance.now();
      const canonical = canonicalize(table, mergeDeclared(declared, request));
      const canonicalizeMs = performance.now() - started;

      const existing = await repository.get(tenantId, request.name, canonical.sha256);
      if (existing !== undefined) {
        started = performance.now();
        await writeFiles(existing, canonical); // restores files if the data dir lost them
        return {
          version: withDirectory(existing),
          created: false,
          timings: { read, canonicalize: canonicalizeMs, analyse: 0, write: performance.now() - started },
        };
      }

      started = performance.now();
      const schema = inferSchema(table, canonical.header.declared);
      const quality = await qualityReport(table, schema, {
        lines: canonical.lines,
        ...(canonical.header.declared.ranges === undefined ? {} : { ranges: canonical.header.declared.ranges }),
        ...(options.piiScanner === undefined ? {} : { piiScanner: options.piiScanner }),
        ...(applied === undefined ? {} : { piiPolicy: { report: applied.report, counts: applied.counts } }),
        ...(options.piiMaxCellsPerColumn === undefined ? {} : { piiMaxCellsPerColumn: options.piiMaxCellsPerColumn }),
      });
      const analyse = performance.now() - started;

      started = performance.now();
      const record: DatasetVersionRecord = {
        tenantId,
        name: request.name,
        version: canonical.sha256,
        createdAt: new Date(clock.now()).toISOString(),
        rowCount: table.rows.length,
        byteSize: canonical.byteSize,
        schema,
        quality,
        source: origin,
        declared: canonical.header.declared,
      };
      // Files first, then the row: a row always has its files. If the row cannot be written (an
      // unknown tenant, a database outage), remove the files this call wrote.
      const wroteFiles = await writeFiles(record, canonical);
      let created: boolean;
      try {
        created = await repository.insert(record);
      } catch (error) {
        if (wroteFiles)
          await rm(directoryOf(tenantId, request.name, canonical.sha256), { recursive: true, force: true });
        throw error;
      }
      const stored = created ? record : ((await repository.get(tenantId, request.name, canonical.sha256)) ?? record);
      return {
        version: withDirectory(stored),
        created,
        timings: { read, canonicalize: canonicalizeMs, analyse, write: performance.now() - started },
      };
    },

    async list(tenantId, name) {
      checkTenant(tenantId);
      if (name !== undefined) checkDatasetName(name);
      return (await repository.list(tenantId, name)).map(withDirectory);
    },

    async get(tenantId, name, version) {
      return withDirectory(await resolve(tenantId, name, version));
    },

    async load(tenantId, name, version, loadOptions = {}) {
      const record = withDirectory(await resolve(tenantId, name, version));
      let bytes: Buffer;
      try {
        bytes = await readFile(join(record.directory, "data.jsonl"));
      } catch (error) {
        throw new ModelportError(
          "MP_STORAGE_ERROR",
          `the files of dataset ${name}@${record.version.slice(0, 12)} are missing from ${record.directory}; re-import the same data to restore them`,
          { cause: error },
        );
      }
      if (loadOptions.verify !== false) {
        const actual = createHash("sha256").update(bytes).digest("hex");
        if (actual !== record.version) {
          throw new ModelportError(
            "MP_STORAGE_ERROR",
            `dataset ${name}@${record.version.slice(0, 12)} was modified on disk (sha256 ${actual.slice(0, 12)}…)`,
          );
        }
      }
      const { table } = parseCanonical(bytes.toString("utf8"));
      return { version: record, table };
    },
  };
}

/**
 * A seeded split of a loaded version, stratified by the label for classification (plain
 * shuffle for regression and unlabelled data).
 */
export function splitVersion(loaded: LoadedDataset, options: SplitFractions & { seed: number | string }): DatasetSplit {
  const { schema } = loaded.version;
  const labelIndex = schema.label === null ? -1 : loaded.table.columns.indexOf(schema.label);
  const strata =
    schema.task === "classification" && labelIndex >= 0
      ? loaded.table.rows.map((row) => {
          const cell = row[labelIndex];
          return typeof cell === "string" || typeof cell === "number" ? cell : null;
        })
      : undefined;
  return splitDataset(loaded.table.rows.length, { ...options, ...(strata === undefined ? {} : { strata }) });
}
