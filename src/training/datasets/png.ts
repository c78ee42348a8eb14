import { crc32, deflateSync, inflateSync } from "node:zlib";
import { ModelportError } from "../../core/errors.js";

/**
 * A small PNG codec on node:zlib, so importing image folders needs no dependency (pngjs would do
 * the same). Decodes every non-interlaced PNG: grayscale, RGB, palette, with or without alpha,
 * bit depths 1–16 (16-bit samples keep their high byte). Adam7-interlaced files are refused.
 */

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** Row-major, channels last, 0–255. */
  data: Uint8Array;
}

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function fail(message: string): never {
  throw new ModelportError("MP_INVALID_REQUEST", `not a PNG this importer reads: ${message}`);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

export function decodePng(file: Uint8Array): DecodedImage {
  const buffer = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buffer.length < 8 || !buffer.subarray(0, 8).equals(signature)) fail("bad signature");
  let offset = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = -1;
  let palette: Buffer | undefined;
  const compressed: Buffer[] = [];
  while (offset + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString("latin1", offset + 4, offset + 8);
    const data = buffer.subarray(offset + 8, offset + 8 + length);
    if (data.length !== length) fail(`chunk ${type} is truncated`);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8] ?? 0;
      colorType = data[9] ?? -1;
      if ((data[12] ?? 0) !== 0) fail("interlaced (Adam7) images are not supported");
    } else if (type === "PLTE") {
      palette = data;
    } else if (type === "IDAT") {
      compressed.push(data);
    } else if (type === "IEND") {
      break;
    }
    offset += 12 + length;
  }
  const samplesPerPixel = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  if (samplesPerPixel === undefined) fail(`unknown color type ${colorType}`);
  if (![1, 2, 4, 8, 16].includes(bitDepth)) fail(`bit depth ${bitDepth}`);
  if (width === 0 || height === 0) fail("no IHDR or an empty image");
  if (colorType === 3 && palette === undefined) fail("palette image without PLTE");
  if (compressed.length === 0) fail("no IDAT");

  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(compressed));
  } catch (error) {
    throw new ModelportError("MP_INVALID_REQUEST", "not a PNG this importer reads: corrupt image data", {
      cause: error,
    });
  }
  const bitsPerPixel = samplesPerPixel * bitDepth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const step = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < height * (stride + 1)) fail("image data is shorter than the header says");

  // Undo the per-scanline filters.
  const unfiltered = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const source = y * (stride + 1) + 1;
    const row = y * stride;
    const previous = row - stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[source + x] as number;
      const left = x >= step ? (unfiltered[row + x - step] as number) : 0;
      const up = y > 0 ? (unfiltered[previous + x] as number) : 0;
      const upLeft = y > 0 && x >= step ? (unfiltered[previous + x - step] as number) : 0;
      let out: number;
      if (filter === 0) out = value;
      else if (filter === 1) out = value + left;
      else if (filter === 2) out = value + up;
      else if (filter === 3) out = value + ((left + up) >> 1);
      else if (filter === 4) out = value + paeth(left, up, upLeft);
      else fail(`unknown filter ${filter}`);
      unfiltered[row + x] = out & 0xff;
    }
  }

  // Unpack samples to 8 bits.
  const sample = (y: number, index: number): number => {
    const row = y * stride;
    if (bitDepth === 8) return unfiltered[row + index] as number;
    if (bitDepth === 16) return unfiltered[row + index * 2] as number;
    const perByte = 8 / bitDepth;
    const byte = unfiltered[row + Math.floor(index / perByte)] as number;
    const shift = 8 - bitDepth * ((index % perByte) + 1);
    const value = (byte >> shift) & ((1 << bitDepth) - 1);
    // Palette indices stay indices; gray levels scale to 0–255.
    return colorType === 3 ? value : Math.round((value * 255) / ((1 << bitDepth) - 1));
  };

  const channels = (colorType === 3 ? 3 : samplesPerPixel) as 1 | 2 | 3 | 4;
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const out = (y * width + x) * channels;
      if (colorType === 3) {
        const entry = sample(y, x) * 3;
        if (palette === undefined || entry + 2 >= palette.length) fail("palette index out of range");
        data[out] = palette[entry] as number;
        data[out + 1] = palette[entry + 1] as number;
        data[out + 2] = palette[entry + 2] as number;
      } else {
        for (let c = 0; c < channels; c++) data[out + c] = sample(y, x * channels + c);
      }
    }
  }
  return { width, height, channels, data };
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const body = Buffer.concat([head.subarray(4), data]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([head.subarray(0, 4), body, tail]);
}

/** Encodes 8-bit pixels (filter 0 on every row). For tests and exports. */
export function encodePng(image: DecodedImage): Buffer {
  const colorType = { 1: 0, 2: 4, 3: 2, 4: 6 }[image.channels];
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header[8] = 8;
  header[9] = colorType;
  const stride = image.width * image.channels;
  const raw = Buffer.alloc(image.height * (stride + 1));
  for (let y = 0; y < image.height; y++) {
    raw.set(image.data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}
