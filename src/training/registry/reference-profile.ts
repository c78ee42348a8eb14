import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { ModelportError } from "../../core/errors.js";
import { parseReferenceProfile, profileFromCsv, type ReferenceProfile } from "../../monitoring/drift/index.js";
import { readOptionalJson } from "./artifact-files.js";
import type { StoredReferenceProfile } from "./registry-store.js";
import type { ModelSignature } from "./types.js";

/** The trainer writes the training split's profile here, inside the artifact (so it is covered by the sha256). */
export const referenceProfileFileName = "reference-profile.json";

/**
 * A reference profile given at registration, for artifacts that carry none (an external ONNX
 * file): a profile JSON (`.json`), or a CSV of reference rows (`.csv`) whose columns are named
 * like the model's OIP inputs, the profile being built from it (rows not kept).
 */
export interface ReferenceInput {
  file: string;
  /** CSV only: the column with the model's outputs on those rows (default: a column named like the signature's first output). */
  predictionColumn?: string;
}

function invalid(message: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param: "referenceProfile" });
}

async function readProfileJson(file: string): Promise<ReferenceProfile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ModelportError("MP_INVALID_REQUEST", `reference profile ${file} cannot be read`, {
      param: "referenceProfile",
      cause: error,
    });
  }
  try {
    return parseReferenceProfile(JSON.parse(text));
  } catch (error) {
    throw invalid(`reference profile ${file}: ${(error as Error).message}`);
  }
}

/**
 * Drift compares request inputs and outputs by name with the profile's columns: a profile feature
 * that is not a model input, or a prediction that is not an output, would never see traffic.
 * `NAME[j]` names element j of tensor NAME (drift-watch/tensor-rows.ts).
 */
export function checkProfileFitsSignature(profile: ReferenceProfile, signature: ModelSignature | null): void {
  if (signature === null) return;
  const tensorOf = (name: string) => /^(.+)\[\d+\]$/.exec(name)?.[1];
  const names = (tensors: ModelSignature["inputs"]) => new Set(tensors.map((tensor) => tensor.name));
  const fits = (name: string, known: Set<string>) => known.has(name) || known.has(tensorOf(name) ?? "");
  const inputs = names(signature.inputs);
  const unknown = profile.features.filter((feature) => !fits(feature.name, inputs)).map((feature) => feature.name);
  if (unknown.length > 0)
    throw invalid(
      `the reference profile's features ${unknown.join(", ")} are not inputs of the model (${[...inputs].join(", ")})`,
    );
  if (profile.prediction && !fits(profile.prediction.name, names(signature.outputs)))
    throw invalid(
      `the reference profile's prediction '${profile.prediction.name}' is not an output of the model (${signature.outputs.map((output) => output.name).join(", ")})`,
    );
}

function stored(profile: ReferenceProfile, source: StoredReferenceProfile["source"]): StoredReferenceProfile {
  return { source, rows: profile.rows, columns: profile.columns.map((column) => column.name), profile };
}

/**
 * The version's reference profile: the artifact's own reference-profile.json, or the one given at
 * registration (never both: which one describes the model would be a guess).
 */
export async function resolveReferenceProfile(
  staging: string,
  input: ReferenceInput | undefined,
  signature: ModelSignature | null,
): Promise<StoredReferenceProfile | undefined> {
  const inArtifact = await readOptionalJson(join(staging, referenceProfileFileName));
  if (inArtifact !== undefined && input !== undefined)
    throw invalid(`the artifact already has ${referenceProfileFileName}; register it without a reference file`);
  let result: StoredReferenceProfile | undefined;
  if (inArtifact !== undefined) {
    try {
      result = stored(parseReferenceProfile(inArtifact), "artifact");
    } catch (error) {
      throw invalid(`${referenceProfileFileName}: ${(error as Error).message}`);
    }
  } else if (input !== undefined) {
    const extension = extname(input.file).toLowerCase();
    if (extension === ".json") {
      if (input.predictionColumn !== undefined) throw invalid("a prediction column applies to a CSV reference only");
      result = stored(await readProfileJson(input.file), "json");
    } else if (extension === ".csv") {
      result = stored(
        await profileFromCsv(input.file, {
          ...(input.predictionColumn === undefined ? {} : { predictionColumn: input.predictionColumn }),
          predictionCandidates: signature?.outputs.map((output) => output.name) ?? [],
        }),
        "csv",
      );
    } else throw invalid(`reference file ${input.file} must be a profile .json or a .csv of reference rows`);
  }
  if (result !== undefined) checkProfileFitsSignature(result.profile as ReferenceProfile, signature);
  return result;
}
