import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelportError } from "../../core/errors.js";
import { type DecodedImage, decodePng } from "./png.js";
import type { DataTable } from "./types.js";

export interface ImageFolderOptions {
  /** Convert color to one luminance channel (ITU-R BT.601). Default: gray only when every image is gray. */
  grayscale?: boolean;
}

export interface ImageFolderTable extends DataTable {
  /** [height, width] for gray images, [height, width, 3] for color. */
  shape: number[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function listPngs(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith(".png"))
    .map((entry) => entry.name)
    .sort(byName);
}

/** Drops alpha; folds color to gray, or repeats gray to RGB, as `outChannels` asks. Keeps 0–255. */
function toPixels(image: DecodedImage, outChannels: 1 | 3): number[] {
  const { channels, data } = image;
  const count = image.width * image.height;
  const pixels = new Array<number>(count * outChannels);
  for (let i = 0; i < count; i++) {
    const base = i * channels;
    const red = data[base] as number;
    const green = channels >= 3 ? (data[base + 1] as number) : red;
    const blue = channels >= 3 ? (data[base + 2] as number) : red;
    if (outChannels === 1) {
      pixels[i] = channels >= 3 ? Math.round(0.299 * red + 0.587 * green + 0.114 * blue) : red;
    } else {
      pixels[i * 3] = red;
      pixels[i * 3 + 1] = green;
      pixels[i * 3 + 2] = blue;
    }
  }
  return pixels;
}

/**
 * Reads a folder of PNG images. With one sub-folder per class (`digits/3/a.png`, the layout of
 * Keras' image_dataset_from_directory) the table has `image` and `label` columns, the label
 * being the folder name; PNGs directly in the folder make an unlabelled `image` table. Rows come
 * in sorted folder/file order, so the same files always give the same version. Every image must
 * have the same size.
 */
export async function readImageFolder(directory: string, options: ImageFolderOptions = {}): Promise<ImageFolderTable> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw new ModelportError("MP_NOT_FOUND", `cannot read the image folder ${directory}`, { cause: error });
  }
  const classes = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort(byName);
  const files: { path: string; label: string | undefined }[] = [];
  for (const name of await listPngs(directory)) files.push({ path: join(directory, name), label: undefined });
  for (const label of classes) {
    for (const name of await listPngs(join(directory, label)))
      files.push({ path: join(directory, label, name), label });
  }
  if (files.length === 0) {
    throw new ModelportError("MP_INVALID_REQUEST", `no PNG images in ${directory} or its sub-folders`);
  }
  const labelled = files.some((file) => file.label !== undefined);
  if (labelled && files.some((file) => file.label === undefined)) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `${directory} mixes PNGs at the top level with class sub-folders; put every image in a class folder`,
    );
  }

  const decoded: { image: DecodedImage; label: string | undefined; path: string }[] = [];
  for (const file of files) {
    let image: DecodedImage;
    try {
      image = decodePng(await readFile(file.path));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ModelportError("MP_INVALID_REQUEST", `${file.path}: ${reason}`, { cause: error });
    }
    decoded.push({ image, label: file.label, path: file.path });
  }
  const first = decoded[0]?.image as DecodedImage;
  for (const { image, path } of decoded) {
    if (image.width !== first.width || image.height !== first.height) {
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `${path} is ${image.width}x${image.height} but the first image is ${first.width}x${first.height}; resize them to one size`,
      );
    }
  }
  const anyColor = decoded.some(({ image }) => image.channels >= 3);
  const outChannels = options.grayscale === true || !anyColor ? 1 : 3;
  const shape = outChannels === 1 ? [first.height, first.width] : [first.height, first.width, 3];
  const rows = decoded.map(({ image, label }) =>
    labelled ? [toPixels(image, outChannels), label ?? null] : [toPixels(image, outChannels)],
  );
  return { columns: labelled ? ["image", "label"] : ["image"], rows, shape };
}
