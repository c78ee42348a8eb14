/**
 * The in-memory shape of a dataset and what the store records about each version. A table is
 * row-major: `rows[i][j]` is the cell of column `columns[j]`.
 */

/**
 * One cell: a number, a string, null for missing, or the flattened pixels of an image (row-major,
 * channels last; the column's shape says how to fold them).
 */
export type Cell = number | string | null | readonly number[];

export interface DataTable {
  columns: string[];
  rows: Cell[][];
}

export type ColumnType = "numeric" | "categorical" | "text" | "image";

export type ExampleName = "mnist" | "spam" | "boston";

/** What the importer was told about the data; part of the version's hashed content. */
export interface DeclaredSchema {
  /** The label column; `null` = unlabelled; absent = detect by name (label, target, class, y). */
  label?: string | null;
  types?: Record<string, ColumnType>;
  /** Valid [min, max] per numeric or image column; values outside count as out of range. */
  ranges?: Record<string, [number, number]>;
  /** Image shapes ([height, width] or [height, width, channels]) per image column. */
  shapes?: Record<string, number[]>;
}

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  role: "feature" | "label";
  /** Distinct non-missing values (not counted for image columns). */
  distinct?: number;
  /** Non-missing cells. */
  count: number;
  /** Sorted distinct values of categorical columns (numbers or strings). */
  categories?: (string | number)[];
  /** Numeric columns: summary over non-missing values. */
  min?: number;
  max?: number;
  mean?: number;
  /** Image columns. */
  shape?: number[];
  /** Image columns: the pixel scale the data is on. */
  pixelRange?: [number, number];
}

export interface DatasetSchema {
  columns: ColumnSchema[];
  label: string | null;
  /** From the label column: categorical → classification, numeric → regression. */
  task: "classification" | "regression" | null;
}

export interface OutOfRange {
  /** How the valid range was decided. */
  rule: "declared" | "iqr" | "pixel";
  lower: number;
  upper: number;
  /** Cells (pixels for image columns) outside [lower, upper]. */
  count: number;
  /** Image columns: images with at least one pixel out of range. */
  rows?: number;
}

export interface ColumnQuality {
  missing: number;
  missingFraction: number;
  constant: boolean;
  outOfRange?: OutOfRange;
  /** PII findings per type (only when a PiiScanner was configured and the column holds strings). */
  pii?: Record<string, number>;
}

export interface QualityReport {
  rowCount: number;
  /** Rows identical to an earlier row. */
  duplicateRows: number;
  constantColumns: string[];
  columns: Record<string, ColumnQuality>;
  classBalance: {
    label: string;
    classes: { value: string | number; count: number; fraction: number }[];
    /** Largest class count / smallest class count. */
    imbalanceRatio: number;
  } | null;
  /** Whether a PII scanner ran over the string columns. */
  piiScanned: boolean;
  /** The PII policy applied on import, when there was one: the stored cells are its output. */
  piiPolicy?: PiiPolicyApplied;
  /** One line per problem worth a look, for `datasets show`. */
  warnings: string[];
}

export interface PiiPolicyApplied {
  /** `preset:mask`, `file:policy.yaml`, `config:tenant`, `config:default` … */
  source: string;
  defaultAction: string;
  threshold: number;
  /** Action per entity type, where the policy names one. */
  entities: Record<string, string>;
  /** Cells whose stored text differs from the source. */
  cellsChanged: number;
  /** Per column: findings per type and action ({ email: { EMAIL_ADDRESS: { mask: 3 } } }). */
  columns: Record<string, Record<string, Record<string, number>>>;
}

export type DatasetSource =
  | { kind: "csv"; path: string; delimiter?: string }
  | { kind: "jsonl"; path: string }
  | { kind: "images"; path: string; grayscale?: boolean }
  | { kind: "example"; example: ExampleName }
  | { kind: "table"; table: DataTable; description?: string };

export interface DatasetVersion {
  tenantId: string;
  name: string;
  /** sha256 (hex) of the canonical serialisation: the version's identity. */
  version: string;
  createdAt: string;
  rowCount: number;
  byteSize: number;
  schema: DatasetSchema;
  quality: QualityReport;
  /** Where it came from (a path, or the example's name), for people; not part of the identity. */
  source: {
    kind: DatasetSource["kind"];
    path?: string;
    example?: ExampleName;
    description?: string;
    /** Examples: sha256 of the package version and declarations, to recognise a repeated import. */
    fingerprint?: string;
  };
  declared: DeclaredSchema;
  /** The directory holding data.jsonl and meta.json. */
  directory: string;
}
