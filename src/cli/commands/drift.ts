import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { printJson, printTable } from "../output.js";

const TEST_NAMES = ["ks", "chi2", "z", "wasserstein_norm", "jensenshannon", "psi"];

function parseTestName(value: string): string {
  if (!TEST_NAMES.includes(value)) throw new InvalidArgumentError(`expected one of ${TEST_NAMES.join(", ")}`);
  return value;
}

function parseFraction(value: string): number {
  const number = Number(value);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(value) || !(number >= 0 && number <= 1)) {
    throw new InvalidArgumentError("expected a number from 0 to 1");
  }
  return number;
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || value.trim() === "") {
    throw new InvalidArgumentError("expected a non-negative number");
  }
  return number;
}

const format = (value: number | null) => (value === null ? "-" : Number(value.toPrecision(6)).toString());

/**
 * `modelport drift --reference REF.csv --current CUR.csv [--test NAME] [--json]`: one drift test
 * per column (Evidently's default choice unless --test), exact on the raw files. Exit code 0
 * whether or not drift is found, so scripts read the report; `--fail-on-drift` exits 1 on
 * dataset drift (after printing the report).
 */
export function registerDrift(program: Command): void {
  program
    .command("drift")
    .description("Compare a current CSV with a reference CSV, column by column (Evidently's tests, SciPy's numbers)")
    .requiredOption("--reference <file>", "reference data (CSV with a header row)")
    .requiredOption("--current <file>", "current data (CSV with the same columns)")
    .option("--test <name>", `one test for every column: ${TEST_NAMES.join(", ")}`, parseTestName)
    .option("--threshold <x>", "drift threshold for the test(s) used (default: the test's own)", parsePositive)
    .option("--drift-share <x>", "share of drifted columns that means dataset drift", parseFraction, 0.5)
    .option("--fail-on-drift", "exit 1 when the dataset drifted")
    .option("--json", "print JSON")
    .action(
      async (flags: {
        reference: string;
        current: string;
        test?: string;
        threshold?: number;
        driftShare: number;
        failOnDrift?: boolean;
        json?: boolean;
      }) => {
        // Loaded here so other commands do not pay for the statistics code.
        const drift = await import("../../monitoring/drift/index.js");
        const { ModelportError } = await import("../../core/errors.js");
        const [reference, current] = await Promise.all([
          drift.readCsvTable(flags.reference, "reference"),
          drift.readCsvTable(flags.current, "current"),
        ]);
        const test = flags.test !== undefined && drift.isDriftTestName(flags.test) ? flags.test : undefined;
        const thresholds =
          flags.threshold === undefined
            ? undefined
            : Object.fromEntries(drift.DRIFT_TEST_NAMES.map((name) => [name, flags.threshold as number]));
        const report = drift.driftReport(drift.pairCsvColumns(reference, current), {
          test,
          thresholds,
          driftShare: flags.driftShare,
        });
        if (flags.json) printJson(report);
        else {
          printTable(
            report.columns.map((column) => ({
              column: column.name,
              type: column.type,
              test: column.test,
              statistic: format(column.statistic),
              "p-value": format(column.pValue),
              threshold: column.threshold,
              drift: column.drift ? "DRIFT" : "no",
            })),
            ["column", "type", "test", "statistic", "p-value", "threshold", "drift"],
          );
          const drifted = report.columns.filter((column) => column.drift).length;
          process.stdout.write(
            `\n${drifted} of ${report.columns.length} columns drifted (share ${format(report.driftShare)}); ` +
              `dataset drift: ${report.datasetDrift ? "yes" : "no"}\n`,
          );
        }
        if (flags.failOnDrift && report.datasetDrift) {
          throw new ModelportError(
            "MP_DRIFT_DETECTED",
            `dataset drift: ${report.columns.filter((column) => column.drift).length} of ${report.columns.length} columns drifted`,
          );
        }
      },
    );
}
