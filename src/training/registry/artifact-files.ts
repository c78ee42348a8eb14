import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { ModelportError } from "../../core/errors.js";
import type { ArtifactFormat } from "./types.js";

/**
 * Artifact files on disk. A version's files are copied into its own directory and never written
 * again; the digest recorded at registration is recomputed on every load, so a file changed
 * behind the registry's back refuses to load instead of serving something nobody registered.
 *
 * Digest: a single-file artifact (an `.onnx` file) is the sha256 of the file, so it matches
 * `sha256sum model.onnx`. A directory is the sha256 of its manifest: one `<sha256>  <path>\n` line
 * per file (sha256sum's format, `/`-separated relative paths, sorted by path).
 */

export const onnxFileName = "model.onnx";
export const tfjsFileName = "model.json";

async function sha256File(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The manifest lines and digest of a stored version directory. */
export async function digestDirectory(directory: string): Promise<{ sha256: string; files: string[] }> {
  const files = await listFiles(directory);
  if (files.length === 1 && files[0] === onnxFileName)
    return { sha256: await sha256File(join(directory, onnxFileName)), files };
  const lines: string[] = [];
  for (const file of files) lines.push(`${await sha256File(join(directory, file))}  ${file}\n`);
  return { sha256: createHash("sha256").update(lines.join("")).digest("hex"), files };
}

export function detectFormat(files: readonly string[], source: string): ArtifactFormat {
  if (files.includes(tfjsFileName)) return "tfjs";
  if (files.includes(onnxFileName)) return "onnx";
  throw new ModelportError(
    "MP_INVALID_REQUEST",
    `${source} is not a model artifact: expected a directory with model.json (TensorFlow.js) or model.onnx, or an .onnx file`,
    { param: "artifact" },
  );
}

/**
 * Copies `source` (a directory, or one `.onnx` file stored as model.onnx) into a staging
 * directory beside `target`, then renames it into place, so a half-copied version never exists
 * under its final name.
 */
export async function copyArtifact(source: string, target: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch (error) {
    throw new ModelportError("MP_INVALID_REQUEST", `artifact ${source} cannot be read`, {
      param: "artifact",
      cause: error,
    });
  }
  const staging = `${target}.staging-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    if (info.isDirectory()) await cp(source, staging, { recursive: true });
    else if (info.isFile() && basename(source).toLowerCase().endsWith(".onnx"))
      await cp(source, join(staging, onnxFileName));
    else
      throw new ModelportError("MP_INVALID_REQUEST", `artifact ${source} must be a directory or an .onnx file`, {
        param: "artifact",
      });
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Reads a JSON file of the artifact, or undefined when it is absent. */
export async function readOptionalJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelportError("MP_INVALID_REQUEST", `${path} is not valid JSON`, { cause: error });
  }
}
