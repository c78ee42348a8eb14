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
