import { ModelportError } from "../../core/errors.js";
import type { SeededRandom } from "../datasets/seeded-random.js";
import type { AugmentationOptions } from "./spec.js";

/** One drawn augmentation: shifts in pixels, angle in degrees (positive turns clockwise as displayed), zoom factor. */
export interface ImageTransform {
  flip: boolean;
  shiftY: number;
  shiftX: number;
  angle: number;
  zoom: number;
}

function checkShape(length: number, shape: readonly number[]): [number, number, number] {
  const [height, width, channels = 1] = shape as [number, number, number?];
  if (height === undefined || width === undefined || height * width * channels !== length) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `augmentation needs [height, width(, channels)] matching ${length} pixels`,
    );
  }
  return [height, width, channels];
}

/**
 * Applies one transform to a row-major [height, width] or [height, width, channels] image:
 * each output pixel samples its source position under the inverse of flip → rotate → zoom →
 * shift (about the image centre), with bilinear interpolation; outside the image is 0.
 */
export function transformImage(
  pixels: ArrayLike<number>,
  shape: readonly number[],
  transform: ImageTransform,
  out: Float32Array = new Float32Array(pixels.length),
): Float32Array {
  const [height, width, channels] = checkShape(pixels.length, shape);
  const centerY = (height - 1) / 2;
  const centerX = (width - 1) / 2;
  const radians = (transform.angle * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dy = (y - centerY - transform.shiftY) / transform.zoom;
      const dx = (x - centerX - transform.shiftX) / transform.zoom;
      const sourceY = cos * dy - sin * dx + centerY;
      let sourceX = sin * dy + cos * dx + centerX;
      if (transform.flip) sourceX = width - 1 - sourceX;
      const y0 = Math.floor(sourceY);
      const x0 = Math.floor(sourceX);
      const fy = sourceY - y0;
      const fx = sourceX - x0;
      for (let c = 0; c < channels; c++) {
        const at = (row: number, column: number) =>
          row < 0 || row >= height || column < 0 || column >= width
            ? 0
            : (pixels[(row * width + column) * channels + c] as number);
        const top = (1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1);
        const bottom = (1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1);
        out[(y * width + x) * channels + c] = (1 - fy) * top + fy * bottom;
      }
    }
  }
  return out;
}

/** Draws a transform: flip with probability ½, shift up to `shift` × size, ±`rotate`°, zoom in [1 − zoom, 1 + zoom]. */
export function drawTransform(
  shape: readonly number[],
  options: AugmentationOptions,
  random: SeededRandom,
): ImageTransform {
  const [height = 1, width = 1] = shape;
  // Every parameter is drawn even when disabled, so enabling one option does not shift the others.
  const flipDraw = random.next();
  const shiftY = random.uniform(-1, 1) * (options.shift ?? 0) * height;
  const shiftX = random.uniform(-1, 1) * (options.shift ?? 0) * width;
  const angle = random.uniform(-1, 1) * (options.rotate ?? 0);
  const zoom = 1 + random.uniform(-1, 1) * (options.zoom ?? 0);
  return { flip: options.flip === true && flipDraw < 0.5, shiftY, shiftX, angle, zoom };
}

/**
 * Training-time image augmentation (flip, shift, rotate, zoom) with a seeded generator: the same
 * seed gives the same images. Horizontal flips suit photos, not digits; leave `flip` off there.
 */
export function augmentImage(
  pixels: ArrayLike<number>,
  shape: readonly number[],
  options: AugmentationOptions,
  random: SeededRandom,
  out?: Float32Array,
): Float32Array {
  checkShape(pixels.length, shape);
  return transformImage(pixels, shape, drawTransform(shape, options, random), out);
}

/** Augments a batch [count × size], one draw per image; returns a new array of the same layout. */
export function augmentBatch(
  batch: Float32Array,
  shape: readonly number[],
  options: AugmentationOptions,
  random: SeededRandom,
): Float32Array {
  const size = shape.reduce((product, n) => product * n, 1);
  if (size === 0 || batch.length % size !== 0) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `a batch of ${batch.length} values is not a whole number of ${size}-pixel images`,
    );
  }
  const out = new Float32Array(batch.length);
  for (let offset = 0; offset < batch.length; offset += size) {
    augmentImage(batch.subarray(offset, offset + size), shape, options, random, out.subarray(offset, offset + size));
  }
  return out;
}
