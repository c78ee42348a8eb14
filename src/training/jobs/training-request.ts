import { z } from "zod";
import { templateNames } from "../trainers/types.js";
import type { TrainingRequest } from "./training-jobs.js";

const positiveInt = (max: number) => z.number().int().min(1).max(max);
const fraction = z.number().min(0).lt(1);

/** Every knob of trainers/types.ts `Hyperparameters`, bounded so a request cannot ask for absurd work. */
export const hyperparametersSchema = z.strictObject({
  epochs: positiveInt(1_000).optional(),
  batchSize: positiveInt(65_536).optional(),
  learningRate: z.number().gt(0).max(10).optional(),
  optimizer: z.enum(["adam", "sgd", "rmsprop"]).optional(),
  loss: z.enum(["cross-entropy", "mse"]).optional(),
  patience: z.number().int().min(0).max(1_000).optional(),
  minDelta: z.number().min(0).optional(),
  hidden: z.array(positiveInt(8_192)).max(16).optional(),
  maxTokens: positiveInt(1_000_000).optional(),
  sequenceLength: positiveInt(8_192).optional(),
  embeddingDim: positiveInt(4_096).optional(),
  units: positiveInt(4_096).optional(),
  validationFraction: fraction.optional(),
  testFraction: fraction.optional(),
  augment: z
    .strictObject({
      shift: fraction.optional(),
      rotate: z.number().min(0).max(180).optional(),
      zoom: fraction.optional(),
    })
    .optional(),
  lrDecay: z.number().gt(0).max(1).optional(),
  l2: z.number().min(0).max(10).optional(),
});

/** The body of `POST /admin/v1/training/jobs`. */
export const trainingJobBody = z.strictObject({
  dataset: z.string().min(1).max(300).describe("Dataset name, or name@version (a sha256 prefix)."),
  template: z.enum(templateNames),
  hyperparameters: hyperparametersSchema.optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  name: z.string().min(1).max(200).optional().describe("Run name (default template-dataset)."),
  tenant: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("Tenant (name or id) whose dataset to train on; default: the tenant named 'default', or the only one."),
});

export type TrainingJobBody = z.infer<typeof trainingJobBody>;

/** The validated body as a TrainingRequest (JSON has no `undefined`, so absent stays absent). */
export function toTrainingRequest(tenantId: string, body: TrainingJobBody): TrainingRequest {
  return {
    tenantId,
    dataset: body.dataset,
    template: body.template,
    ...(body.hyperparameters === undefined
      ? {}
      : { hyperparameters: body.hyperparameters as NonNullable<TrainingRequest["hyperparameters"]> }),
    ...(body.seed === undefined ? {} : { seed: body.seed }),
    ...(body.name === undefined ? {} : { name: body.name }),
  };
}
