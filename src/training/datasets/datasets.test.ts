import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { ModelportError } from "../../core/errors.js";
import { canonicalize, parseCanonical } from "./canonical.js";
import { inferSchema } from "./infer-schema.js";
import type { PiiScanner } from "./pii-scanner.js";
import { decodePng, encodePng } from "./png.js";
import { qualityReport } from "./quality-report.js";
import { parseCsv } from "./read-csv.js";
import { readImageFolder } from "./read-image-folder.js";
import { parseJsonl } from "./read-jsonl.js";
import type { DataTable, DeclaredSchema } from "./types.js";

const invalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof ModelportError && error.code === "MP_INVALID_REQUEST" && pattern.test(error.message);

async function analyse(table: DataTable, declared: DeclaredSchema = {}, scanner?: PiiScanner) {
  const canonical = canonicalize(table, declared);
  const schema = inferSchema(table, canonical.header.declared);
  return qualityReport(table, schema, {
    lines: canonical.lines,
    ...(canonical.header.declared.ranges === undefined ? {} : { ranges: canonical.header.declared.ranges }),
    ...(scanner === undefined ? {} : { piiScanner: scanner }),
  }).then((quality) => ({ canonical, schema, quality }));
}

test("CSV: quoted fields, numeric columns, pandas' missing markers, codes with leading zeros stay text", () => {
  const table = parseCsv(
    '\uFEFFzip,price,city,note\n02139,10.5,Boston,"a, ""quoted""\nline"\n10001,NA,New York,\n94105,-3e2,,ok\n',
  );
  assert.deepEqual(table.columns, ["zip", "price", "city", "note"]);
  assert.deepEqual(table.rows, [
    ["02139", 10.5, "Boston", 'a, "quoted"\nline'],
    ["10001", null, "New York", null],
    ["94105", -300, null, "ok"],
  ]);
  assert.throws(() => parseCsv(""), invalid(/empty/));
  assert.throws(() => parseCsv("a,b\n1,2,3\n"), invalid(/does not parse/));
  assert.deepEqual(parseCsv("a;b\n1;x\n", { delimiter: ";" }).rows, [[1, "x"]]);
});

test("JSONL: columns are the union of keys; absent keys are missing; bad lines name their number", () => {
  const table = parseJsonl('{"a":1,"b":"x"}\n\n{"b":"y","c":[0,1,2,3],"d":true}\n');
  assert.deepEqual(table.columns, ["a", "b", "c", "d"]);
  assert.deepEqual(table.rows, [
    [1, "x", null, null],
    [null, "y", [0, 1, 2, 3], "true"],
  ]);
  assert.throws(() => parseJsonl('{"a":1}\n{oops}\n'), invalid(/line 2 is not valid JSON/));
  assert.throws(() => parseJsonl("[1,2]\n"), invalid(/line 1 is not a JSON object/));
  assert.throws(() => parseJsonl('{"a":{"nested":1}}\n'), invalid(/line 1, field "a"/));
  assert.throws(() => parseJsonl("\n\n"), invalid(/no records/));
});

/** A PNG with a chosen filter per row, to exercise every unfiltering path of the decoder. */
function filteredPng(width: number, height: number, pixels: Uint8Array, filters: number[]): Buffer {
  const chunk = (type: string, data: Uint8Array) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 0;
  const raw: number[] = [];
  const at = (y: number, x: number) => (y < 0 || x < 0 ? 0 : (pixels[y * width + x] as number));
  for (let y = 0; y < height; y++) {
    const filter = filters[y % filters.length] as number;
    raw.push(filter);
    for (let x = 0; x < width; x++) {
      const left = at(y, x - 1);
      const up = at(y - 1, x);
      const upLeft = at(y - 1, x - 1);
      const p = left + up - upLeft;
      const paeth =
        Math.abs(p - left) <= Math.abs(p - up) && Math.abs(p - left) <= Math.abs(p - upLeft)
          ? left
          : Math.abs(p - up) <= Math.abs(p - upLeft)
            ? up
            : upLeft;
      const predictor = [0, left, up, (left + up) >> 1, paeth][filter] as number;
      raw.push((at(y, x) - predictor) & 0xff);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(raw))),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

test("PNG: all five row filters, gray+alpha and RGB round trips; broken files are refused", () => {
  const pixels = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i * 37 + 11) % 256);
  const decoded = decodePng(filteredPng(7, 5, pixels, [0, 1, 2, 3, 4]));
  assert.equal(decoded.width, 7);
  assert.equal(decoded.height, 5);
  assert.equal(decoded.channels, 1);
  assert.deepEqual([...decoded.data], [...pixels]);

  for (const channels of [2, 3, 4] as const) {
    const data = Uint8Array.from({ length: 3 * 2 * channels }, (_, i) => (i * 53) % 256);
    const image = decodePng(encodePng({ width: 3, height: 2, channels, data }));
    assert.equal(image.channels, channels);
    assert.deepEqual([...image.data], [...data]);
  }
  assert.throws(() => decodePng(Buffer.from("not a png")), invalid(/bad signature/));
  const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
  png[8 + 8 + 12] = 1; // interlace byte of IHDR
  assert.throws(() => decodePng(png), invalid(/interlaced/));
});

test("image folders: one sub-folder per class, sorted, same size required; color becomes gray on request", async () => {
  const root = await mkdtemp(join(tmpdir(), "modelport-images-"));
  try {
    const gray = (value: number) =>
      encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4).fill(value) });
    await mkdir(join(root, "zero"));
    await mkdir(join(root, "one"));
    await writeFile(join(root, "zero", "b.png"), gray(20));
    await writeFile(join(root, "zero", "a.png"), gray(10));
    await writeFile(join(root, "one", "c.png"), gray(255));
    await writeFile(join(root, "one", "notes.txt"), "ignored");
    const table = await readImageFolder(root);
    assert.deepEqual(table.columns, ["image", "label"]);
    assert.deepEqual(table.shape, [2, 2]);
    assert.deepEqual(table.rows, [
      [[255, 255, 255, 255], "one"],
      [[10, 10, 10, 10], "zero"],
      [[20, 20, 20, 20], "zero"],
    ]);

    const red = encodePng({
      width: 2,
      height: 2,
      channels: 3,
      data: Uint8Array.from([255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    });
    await writeFile(join(root, "one", "d.png"), red);
    const color = await readImageFolder(root);
    assert.deepEqual(color.shape, [2, 2, 3]);
    assert.deepEqual(color.rows[0]?.[0], [255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
    const folded = await readImageFolder(root, { grayscale: true });
    assert.deepEqual(folded.rows[1]?.[0], [76, 0, 0, 0], "0.299 × 255 = 76");

    await writeFile(
      join(root, "one", "e.png"),
      encodePng({ width: 3, height: 2, channels: 1, data: new Uint8Array(6) }),
    );
    await assert.rejects(readImageFolder(root), invalid(/is 3x2 but the first image is 2x2/));
    await assert.rejects(readImageFolder(join(root, "zero", "missing")), (error: unknown) => {
      return error instanceof ModelportError && error.code === "MP_NOT_FOUND";
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("canonical form: same data → same sha; declarations are part of the identity; files parse back", () => {
  const table: DataTable = {
    columns: ["x", "label"],
    rows: [
      [1.5, "a"],
      [2, "b"],
    ],
  };
  const one = canonicalize(table, {});
  const two = canonicalize(
    {
      columns: ["x", "label"],
      rows: [
        [1.5, "a"],
        [2, "b"],
      ],
    },
    { label: "label" },
  );
  assert.equal(one.sha256, two.sha256, "auto-detected label equals the explicit one");
  assert.notEqual(canonicalize(table, { label: null }).sha256, one.sha256);
  assert.notEqual(
    canonicalize(
      {
        columns: ["x", "label"],
        rows: [
          [1.5, "a"],
          [2.5, "b"],
        ],
      },
      {},
    ).sha256,
    one.sha256,
  );
  const bytes = Buffer.concat(one.chunks).toString("utf8");
  assert.equal(
    bytes.split("\n")[0],
    '{"columns":["x","label"],"declared":{"label":"label"},"format":"modelport-dataset/1"}',
  );
  assert.deepEqual(parseCanonical(bytes).table, table);

  assert.throws(() => canonicalize({ columns: ["a", "a"], rows: [[1, 2]] }, {}), invalid(/appears twice/));
  assert.throws(() => canonicalize({ columns: ["a"], rows: [[1, 2]] }, {}), invalid(/row 1 has 2 cells/));
  assert.throws(() => canonicalize({ columns: ["a"], rows: [[Number.NaN]] }, {}), invalid(/not a finite number/));
  assert.throws(() => canonicalize(table, { label: "nope" }), invalid(/label column 'nope' does not exist/));
  assert.throws(() => canonicalize(table, { types: { zz: "numeric" } }), invalid(/'zz', which is not a column/));
  assert.throws(() => canonicalize(table, { ranges: { x: [3, 1] } }), invalid(/min <= max/));
});

test("schema inference: numeric, categorical, text, image, label and task", async () => {
  const rows: DataTable["rows"] = [];
  for (let i = 0; i < 60; i++) {
    rows.push([
      i * 1.5,
      ["red", "green", "blue"][i % 3] as string,
      `message number ${i} says something long enough to be free text, not a category`,
      [0, 0.5, 1, i / 60],
      i % 10,
    ]);
  }
  const { schema } = await analyse({ columns: ["amount", "color", "body", "pixels", "Target"], rows });
  assert.deepEqual(
    schema.columns.map((column) => [column.name, column.type, column.role]),
    [
      ["amount", "numeric", "feature"],
      ["color", "categorical", "feature"],
      ["body", "text", "feature"],
      ["pixels", "image", "feature"],
      ["Target", "categorical", "label"],
    ],
  );
  assert.equal(schema.label, "Target");
  assert.equal(schema.task, "classification");
  assert.deepEqual(schema.columns[1]?.categories, ["blue", "green", "red"]);
  assert.deepEqual(schema.columns[3]?.shape, [2, 2]);
  assert.deepEqual(schema.columns[3]?.pixelRange, [0, 1]);
  assert.equal(schema.columns[0]?.max, 88.5);

  const regression = await analyse(
    { columns: ["x", "price"], rows: rows.map((row, i) => [i, (row[0] as number) + 0.25]) },
    {
      label: "price",
    },
  );
  assert.equal(regression.schema.task, "regression");
  const overridden = await analyse(
    {
      columns: ["x", "y"],
      rows: [
        [1, "a"],
        [2, "b"],
      ],
    },
    { label: null, types: { x: "categorical" } },
  );
  assert.equal(overridden.schema.label, null);
  assert.equal(overridden.schema.columns[0]?.type, "categorical");

  await assert.rejects(analyse({ columns: ["p"], rows: [[[1, 2, 3]]] }), invalid(/not a square: declare its shape/));
  await assert.rejects(analyse({ columns: ["p"], rows: [[[1, 2, 3, 4]], [[1, 2]]] }), invalid(/an image of 2 values/));
  await assert.rejects(analyse({ columns: ["label"], rows: [[1], ["a"]] }), invalid(/mixes numbers and strings/));
  await assert.rejects(
    analyse({ columns: ["x"], rows: [["a"]] }, { types: { x: "numeric" } }),
    invalid(/declared numeric/),
  );
  const shaped = await analyse({ columns: ["p"], rows: [[[1, 2, 3, 4, 5, 6]]] }, { shapes: { p: [2, 3] } });
  assert.deepEqual(shaped.schema.columns[0]?.shape, [2, 3]);
});

test("quality report: missing, duplicates, constant columns, class balance, out-of-range, PII", async () => {
  const rows: DataTable["rows"] = [];
  for (let i = 0; i < 40; i++) {
    rows.push([
      i % 5 === 0 ? null : 10 + (i % 7),
      "same",
      i < 30 ? "ham" : "spam",
      `row ${i % 20} mail me at u${i % 20}@x.org`,
    ]);
  }
  rows.push([1000, "same", "ham", "plain"]); // an outlier beyond the IQR fences
  const scanner: PiiScanner = {
    scan: (text) =>
      [...text.matchAll(/\S+@\S+/g)].map((match) => ({
        type: "EMAIL_ADDRESS",
        start: match.index,
        end: match.index + match[0].length,
        score: 1,
      })),
  };
  const { quality } = await analyse({ columns: ["n", "k", "label", "note"], rows }, {}, scanner);
  assert.equal(quality.rowCount, 41);
  assert.equal(quality.columns.n?.missing, 8);
  assert.ok(Math.abs((quality.columns.n?.missingFraction ?? 0) - 8 / 41) < 1e-12);
  assert.deepEqual(quality.constantColumns, ["k"]);
  // Rows i and i+20 are identical when both have the same n, label and note.
  assert.ok(quality.duplicateRows > 0);
  assert.equal(quality.columns.n?.outOfRange?.rule, "iqr");
  assert.equal(quality.columns.n?.outOfRange?.count, 1);
  assert.deepEqual(quality.classBalance?.classes, [
    { value: "ham", count: 31, fraction: 31 / 41 },
    { value: "spam", count: 10, fraction: 10 / 41 },
  ]);
  assert.equal(quality.classBalance?.imbalanceRatio, 3.1);
  assert.equal(quality.piiScanned, true);
  assert.deepEqual(quality.columns.note?.pii, { EMAIL_ADDRESS: 40 });
  assert.equal(quality.columns.n?.pii, undefined, "numeric columns are not scanned");
  assert.ok(quality.warnings.some((warning) => /k: constant/.test(warning)));

  const declared = await analyse({ columns: ["n"], rows: [[1], [5], [11]] }, { ranges: { n: [0, 10] } });
  assert.deepEqual(declared.quality.columns.n?.outOfRange, { rule: "declared", lower: 0, upper: 10, count: 1 });

  const images = await analyse({ columns: ["image"], rows: [[[0, 128, 255, 300]], [[0, 1, 2, -1]], [[0, 0, 0, 0]]] });
  assert.deepEqual(images.quality.columns.image?.outOfRange, {
    rule: "pixel",
    lower: 0,
    upper: 255,
    count: 2,
    rows: 2,
  });
  const unit = await analyse(
    { columns: ["image"], rows: [[[0, 0.5, 1, 1]], [[0, 0.2, 0.3, 0.4]]] },
    { ranges: { image: [0, 0.9] } },
  );
  assert.deepEqual(unit.quality.columns.image?.outOfRange, {
    rule: "declared",
    lower: 0,
    upper: 0.9,
    count: 2,
    rows: 1,
  });
});
