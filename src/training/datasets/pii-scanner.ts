/**
 * The port through which dataset quality reports look for personal data. The privacy module
 * supplies the detector (`modelport pii detect` semantics: UTF-16 `start`/`end`, `end`
 * exclusive); datasets only count what it finds, per column and type.
 */
export interface PiiScanFinding {
  type: string;
  start: number;
  end: number;
  score: number;
}

export interface PiiScanner {
  scan(text: string): readonly PiiScanFinding[] | Promise<readonly PiiScanFinding[]>;
}

/**
 * The port through which a PII policy is applied to a dataset on import (the privacy module
 * implements it; see privacy/pii/dataset-policy.ts). Applied to every string cell (and to long
 * integers, which CSV reading turns card and phone numbers into) before the version is hashed and
 * written, so the stored files hold what the policy leaves.
 */
export interface PiiCellVerdict {
  /** The cell as it is stored. */
  text: string;
  /** What was found in the cell, with the action taken on each finding. */
  findings: readonly { type: string; action: string }[];
  /** Types whose action is block, when there are any: nothing is imported. */
  blockedTypes?: readonly string[];
}

export interface PiiCellFilter {
  apply(text: string): PiiCellVerdict;
}

export interface PiiCellPolicy {
  /** Where the policy came from and what it does, for the quality report. */
  readonly summary: {
    source: string;
    defaultAction: string;
    threshold: number;
    entities: Record<string, string>;
  };
  /** Stable identity of the policy and its key (never the key): part of an import's fingerprint. */
  readonly fingerprint: string;
  /** One filter per import: pseudonyms are numbered consistently across its rows. */
  start(): PiiCellFilter;
}
