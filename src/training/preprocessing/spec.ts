import { z } from "zod";

/**
 * The JSON form of a fitted preprocessor, saved with the model (registry signature) and applied
 * again at inference. Everything a transform needs is here; nothing refers back to the dataset.
 */

export const preprocessingFormat = "modelport-preprocessing/1";

const category = z.union([z.string(), z.number()]);

const standard = z.object({
  kind: z.literal("standard"),
  column: z.string(),
  /** Training mean (also the value imputed for missing cells). */
  mean: z.number(),
  /** Population standard deviation; 1 when it was 0 (sklearn's StandardScaler does the same). */
  scale: z.number(),
});

const minMax = z.object({
  kind: z.literal("min-max"),
  column: z.string(),
  min: z.number(),
  /** max − min; 1 when it was 0. Output (x − min) / range; not clipped (sklearn's clip=False). */
  range: z.number(),
  /** Value imputed for missing cells (the training mean). */
  fill: z.number(),
});

const oneHot = z.object({
  kind: z.literal("one-hot"),
  column: z.string(),
  categories: z.array(category),
  /** `ignore`: an unknown category encodes as all zeros; `error`: transform fails. */
  unknown: z.enum(["ignore", "error"]),
});

const ordinal = z.object({
  kind: z.literal("ordinal"),
  column: z.string(),
  categories: z.array(category),
  /** Code for unknown categories, or null to fail. */
  unknownValue: z.number().nullable(),
});

const bagOfWords = z.object({
  kind: z.literal("bag-of-words"),
  column: z.string(),
  vocabulary: z.array(z.string()),
  mode: z.enum(["count", "binary", "tf-idf"]),
  /** tf-idf only: sklearn's smooth idf, ln((1 + n) / (1 + df)) + 1, per vocabulary term. */
  idf: z.array(z.number()).optional(),
});

const sequence = z.object({
  kind: z.literal("sequence"),
  column: z.string(),
  /** Token id = index + 2; 0 is padding, 1 is out-of-vocabulary. */
  vocabulary: z.array(z.string()),
  length: z.number().int().positive(),
  padding: z.enum(["pre", "post"]),
  truncating: z.enum(["pre", "post"]),
});

const image = z.object({
  kind: z.literal("image"),
  column: z.string(),
  shape: z.array(z.number().int().positive()).min(1).max(3),
  /** Pixels are multiplied by this (1/255 takes [0, 255] to [0, 1]). */
  scale: z.number(),
});

const passthrough = z.object({ kind: z.literal("passthrough"), column: z.string(), fill: z.number() });

export const stepSpecSchema = z.discriminatedUnion("kind", [
  standard,
  minMax,
  oneHot,
  ordinal,
  bagOfWords,
  sequence,
  image,
  passthrough,
]);
export type StepSpec = z.infer<typeof stepSpecSchema>;

export const labelSpecSchema = z.union([
  z.object({ column: z.string(), task: z.literal("classification"), classes: z.array(category).min(1) }),
  z.object({ column: z.string(), task: z.literal("regression") }),
]);
export type LabelSpec = z.infer<typeof labelSpecSchema>;

export const augmentationSchema = z.object({
  flip: z.boolean().optional(),
  shift: z.number().min(0).max(1).optional(),
  rotate: z.number().min(0).max(180).optional(),
  zoom: z.number().min(0).max(0.9).optional(),
});
export type AugmentationOptions = z.infer<typeof augmentationSchema>;

export const preprocessorSpecSchema = z.object({
  format: z.literal(preprocessingFormat),
  steps: z.array(stepSpecSchema).min(1),
  label: labelSpecSchema.nullable(),
  /** Training-time image augmentation, recorded for lineage; transform() never applies it. */
  augmentation: augmentationSchema.optional(),
});
export type PreprocessorSpec = z.infer<typeof preprocessorSpecSchema>;
