import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ModelportError } from "../../core/errors.js";

/**
 * Saves and loads TensorFlow.js layers models in the standard on-disk format (`model.json` with
 * `modelTopology` + `weightsManifest`, weights in `.bin` files beside it) without tfjs-node, whose
 * `file://` handlers cannot be installed here. Files written here load in tfjs-node and Python's
 * tensorflowjs converter, and files written by them load here.
 */

export const modelJsonFileName = "model.json";
export const defaultWeightsFileName = "weights.bin";

export interface FileSaveOptions {
  /** Name of the weights file written beside model.json. */
  weightsFileName?: string;
}

/** Bytes per element of each stored weight dtype (after quantization, when present). */
const bytesPerElement: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function saveError(message: string, cause?: unknown): ModelportError {
  return new ModelportError("MP_STORAGE_ERROR", message, cause === undefined ? {} : { cause });
}

function loadError(path: string, message: string, cause?: unknown): ModelportError {
  return new ModelportError(
    "MP_MODEL_NOT_READY",
    `tfjs model ${path}: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

function isPlainFileName(name: string): boolean {
  return name.length > 0 && !name.includes("/") && !name.includes("\\") && name !== "." && name !== "..";
}

/**
 * Writes a file through a temporary name and a rename, so a reader never sees half a file, and
 * a crash mid-save leaves the previous model intact.
 */
async function writeFileAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/**
 * A save handler for `model.save(fileSaveHandler(dir))`: creates `dir` when missing and writes
 * `dir/model.json` plus `dir/weights.bin`. model.json is written last, so its presence means the
 * weights it names are complete.
 */
export function fileSaveHandler(directory: string, options: FileSaveOptions = {}): tf.io.IOHandler {
  if (typeof directory !== "string" || directory.length === 0)
    throw saveError("fileSaveHandler needs a directory path (got an empty value)");
  const weightsFileName = options.weightsFileName ?? defaultWeightsFileName;
  if (!isPlainFileName(weightsFileName))
    throw saveError(`weightsFileName must be a plain file name without directories (got "${weightsFileName}")`);
  const target = resolve(directory);

  return tf.io.withSaveHandler(async (artifacts) => {
    if (artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer)
      throw saveError(`only layers models with a JSON topology can be saved to ${target}`);
    try {
      const existing = await stat(target).catch(() => undefined);
      if (existing && !existing.isDirectory()) throw saveError(`${target} exists and is not a directory`);
      await mkdir(target, { recursive: true });
      const weightSpecs = artifacts.weightSpecs ?? [];
      const weightData =
        artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_core}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [weightsFileName], weights: weightSpecs }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        ...(artifacts.modelInitializer ? { modelInitializer: artifacts.modelInitializer } : {}),
        ...(artifacts.initializerSignature ? { initializerSignature: artifacts.initializerSignature } : {}),
      };
      await writeFileAtomically(join(target, weightsFileName), new Uint8Array(weightData));
      await writeFileAtomically(join(target, modelJsonFileName), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    } catch (error) {
      if (error instanceof ModelportError) throw error;
      throw saveError(`could not save the tfjs model to ${target}: ${(error as Error).message}`, error);
    }
  });
}

/** Resolves a weights path from the manifest, refusing anything that leaves the model directory. */
function weightsPath(modelJsonPath: string, directory: string, path: unknown): string {
  if (typeof path !== "string" || path.length === 0)
    throw loadError(modelJsonPath, "weightsManifest has an empty or non-string path");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || isAbsolute(path))
    throw loadError(modelJsonPath, `weights path "${path}" must be relative to the model directory`);
  const full = resolve(directory, path);
  const inside = relative(directory, full);
  if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside))
    throw loadError(modelJsonPath, `weights path "${path}" points outside the model directory`);
  return full;
}

function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    // String weights have a per-element length prefix; their size is not known from the manifest.
    const width = bytesPerElement[spec.quantization?.dtype ?? spec.dtype];
    if (width === undefined) return undefined;
    total += spec.shape.reduce((product, dim) => product * dim, 1) * width;
  }
  return total;
}

function parseModelJson(path: string, text: string): tf.io.ModelJSON {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw loadError(path, `is not valid JSON (${(error as Error).message})`, error);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw loadError(path, "must hold a JSON object");
  const json = parsed as Record<string, unknown>;
  if (typeof json.modelTopology !== "object" || json.modelTopology === null)
    throw loadError(path, "has no modelTopology object (is it a tfjs layers model.json?)");
  if (!Array.isArray(json.weightsManifest)) throw loadError(path, "has no weightsManifest array");
  for (const [index, group] of (json.weightsManifest as unknown[]).entries()) {
    const entry = group as Record<string, unknown> | null;
    if (typeof entry !== "object" || entry === null || !Array.isArray(entry.paths) || !Array.isArray(entry.weights))
      throw loadError(path, `weightsManifest[${index}] needs "paths" and "weights" arrays`);
  }
  return parsed as tf.io.ModelJSON;
}

/**
 * A load handler for `tf.loadLayersModel(fileLoadHandler(path))`: reads model.json and the
 * weight files its manifest names (relative to model.json's directory). Every failure is a
 * `MP_MODEL_NOT_READY` naming the file at fault.
 */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  if (typeof modelJsonPath !== "string" || modelJsonPath.length === 0)
    throw loadError("(no path)", "fileLoadHandler needs the path of a model.json file");
  const path = resolve(modelJsonPath);
  const directory = dirname(path);

  return {
    load: async () => {
      let text: string;
      try {
        const info = await stat(path);
        if (!info.isFile()) throw loadError(path, "is not a file (pass the path of model.json)");
        text = await readFile(path, "utf8");
      } catch (error) {
        if (error instanceof ModelportError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        throw loadError(path, code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? error})`, error);
      }
      const modelJson = parseModelJson(path, text);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const name of group.paths) {
            const file = weightsPath(path, directory, name);
            let bytes: Buffer;
            try {
              bytes = await readFile(file);
            } catch (error) {
              const code = (error as NodeJS.ErrnoException).code;
              throw loadError(
                path,
                code === "ENOENT"
                  ? `weights file ${file} does not exist`
                  : `weights file ${file} cannot be read (${code})`,
                error,
              );
            }
            // Copy out of Node's shared buffer pool: tfjs slices the ArrayBuffer by offset.
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        const weightData = tf.io.CompositeArrayBuffer.join(buffers);
        const expected = expectedBytes(specs);
        if (expected !== undefined && expected !== weightData.byteLength)
          throw loadError(
            path,
            `weight files hold ${weightData.byteLength} bytes but the manifest describes ${expected} (truncated or mismatched weights)`,
          );
        return [specs, weightData];
      });
    },
  };
}
