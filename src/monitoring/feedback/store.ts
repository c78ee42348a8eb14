import type { Kysely } from "kysely";
import type { Clock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import type { Database, PredictionsTable } from "../../storage/schema.js";
import { precisionRecallF1 } from "../../training/evaluation/classification-metrics.js";
import type {
  FeedbackInput,
  FeedbackKind,
  FeedbackReceipt,
  LiveQuality,
  LiveQualityQuery,
  PredictionRecord,
} from "./types.js";

export interface FeedbackStoreOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** At most this many labeled predictions per live-quality query (newest first); default 200,000. */
  maxRows?: number;
}

const MAX_LABEL_LENGTH = 256;

function kindOf(input: FeedbackInput): FeedbackKind {
  const given: FeedbackKind[] = [];
  if (input.label !== undefined) given.push("label");
  if (input.score !== undefined) given.push("score");
  if (input.thumbs !== undefined) given.push("thumbs");
  const [kind] = given;
  if (given.length !== 1 || kind === undefined)
    throw new ModelportError("MP_INVALID_REQUEST", "give exactly one of label, score or thumbs", {
      param: given.length === 0 ? "label" : (given[1] ?? "label"),
    });
  if (kind === "label") {
    const label = input.label;
    if (typeof label === "number" ? !Number.isFinite(label) : label === "" || String(label).length > MAX_LABEL_LENGTH)
      throw new ModelportError("MP_INVALID_REQUEST", "label must be a finite number or 1-256 characters", {
        param: "label",
      });
  }
  if (kind === "score" && !Number.isFinite(input.score))
    throw new ModelportError("MP_INVALID_REQUEST", "score must be a finite number", { param: "score" });
  if (kind === "thumbs" && input.thumbs !== 1 && input.thumbs !== -1)
    throw new ModelportError("MP_INVALID_REQUEST", "thumbs must be 1 (up) or -1 (down)", { param: "thumbs" });
  return kind;
}

const toRow = (record: PredictionRecord): PredictionsTable => ({
  request_id: record.requestId,
  tenant_id: record.tenantId,
  endpoint: record.endpoint,
  target: record.target,
  model_version: record.modelVersion,
  predicted_label: String(record.predictedLabel),
  created_at: record.createdAt,
});

/**
 * Predictions and the feedback on them. Labels may arrive long after the request and may be
 * corrected: feedback is keyed by request id, and a second submission for a request replaces
 * the field it carries (a thumbs and a label for the same request both stay).
 */
export function createFeedbackStore(options: FeedbackStoreOptions) {
  const { db, clock } = options;
  const maxRows = options.maxRows ?? 200_000;

  /** Where the request was served: its prediction if recorded, else its request-log entry. */
  async function findRequest(tenantId: string, requestId: string) {
    const prediction = await db
      .selectFrom("predictions")
      .select(["endpoint", "target", "model_version", "created_at"])
      .where("request_id", "=", requestId)
      .where("tenant_id", "=", tenantId)
      .executeTakeFirst();
    if (prediction) return { ...prediction, request_at: prediction.created_at };
    const logged = await db
      .selectFrom("request_log")
      .select(["endpoint", "target", "model_version", "time"])
      .where("request_id", "=", requestId)
      .where("tenant_id", "=", tenantId)
      .executeTakeFirst();
    if (logged) return { ...logged, request_at: logged.time };
    return undefined;
  }

  return {
    /**
     * Records predicted labels, one row per request (batch-friendly: the gateway buffers them
     * like the request log). A replayed batch inserts nothing twice.
     */
    async recordPredictions(records: readonly PredictionRecord[], chunkSize = 500): Promise<void> {
      for (let start = 0; start < records.length; start += chunkSize) {
        const chunk = records.slice(start, start + chunkSize);
        await db
          .insertInto("predictions")
          .values(chunk.map(toRow))
          .onConflict((conflict) => conflict.column("request_id").doNothing())
          .execute();
      }
    },

    /** Validates and stores one piece of feedback; MP_NOT_FOUND when the tenant made no such request. */
    async submit(input: FeedbackInput): Promise<FeedbackReceipt> {
      const kind = kindOf(input);
      const request = await findRequest(input.tenantId, input.requestId);
      if (!request)
        throw new ModelportError("MP_NOT_FOUND", `no request ${input.requestId} for this tenant`, {
          param: "request_id",
        });
      const now = new Date(clock.now()).toISOString();
      const value =
        kind === "label"
          ? { label: String(input.label) }
          : kind === "score"
            ? { score: input.score as number }
            : { thumbs: input.thumbs as number };
      const existing = await db
        .selectFrom("feedback")
        .select("created_at")
        .where("request_id", "=", input.requestId)
        .executeTakeFirst();
      // Upsert rather than check-then-insert, so two submissions racing still leave one row.
      await db
        .insertInto("feedback")
        .values({
          request_id: input.requestId,
          tenant_id: input.tenantId,
          endpoint: request.endpoint,
          target: request.target,
          model_version: request.model_version,
          label: null,
          score: null,
          thumbs: null,
          ...value,
          request_at: request.request_at,
          created_at: now,
          updated_at: now,
        })
        .onConflict((conflict) => conflict.column("request_id").doUpdateSet({ ...value, updated_at: now }))
        .execute();
      return {
        requestId: input.requestId,
        kind,
        endpoint: request.endpoint,
        target: request.target,
        modelVersion: request.model_version,
        updated: existing !== undefined,
        createdAt: existing?.created_at ?? now,
        updatedAt: now,
      };
    },

    /** Accuracy and macro F1 of the labeled predictions served in the window, plus thumbs and scores. */
    async liveQuality(query: LiveQualityQuery): Promise<LiveQuality> {
      let labeled = db
        .selectFrom("predictions")
        .innerJoin("feedback", "feedback.request_id", "predictions.request_id")
        .select(["predictions.predicted_label as predicted", "feedback.label as actual"])
        .where("predictions.endpoint", "=", query.endpoint)
        .where("predictions.created_at", ">=", query.window.from)
        .where("predictions.created_at", "<", query.window.to)
        .where("feedback.label", "is not", null);
      if (query.tenantId !== undefined) labeled = labeled.where("predictions.tenant_id", "=", query.tenantId);
      if (query.version !== undefined) labeled = labeled.where("predictions.model_version", "=", query.version);
      if (query.target !== undefined) labeled = labeled.where("predictions.target", "=", query.target);
      const rows = await labeled
        .orderBy("predictions.created_at", "desc")
        .limit(maxRows + 1)
        .execute();
      const truncated = rows.length > maxRows;
      const used = truncated ? rows.slice(0, maxRows) : rows;
      const yTrue = used.map((row) => row.actual as string);
      const yPred = used.map((row) => row.predicted);
      let accuracy: number | null = null;
      let macroF1: number | null = null;
      if (used.length > 0) {
        let correct = 0;
        for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
        accuracy = correct / used.length;
        macroF1 = precisionRecallF1(yTrue, yPred, { zeroDivision: 0 }).macro.f1;
      }

      let reactions = db
        .selectFrom("feedback")
        .select((eb) => [
          eb.fn.count<number | string>("thumbs").as("thumbs"),
          eb.fn.sum<number | string | null>(eb.case().when("thumbs", "=", 1).then(1).else(0).end()).as("ups"),
          eb.fn.count<number | string>("score").as("scored"),
          eb.fn.avg<number | string | null>("score").as("mean_score"),
        ])
        .where("endpoint", "=", query.endpoint)
        .where("request_at", ">=", query.window.from)
        .where("request_at", "<", query.window.to);
      if (query.tenantId !== undefined) reactions = reactions.where("tenant_id", "=", query.tenantId);
      if (query.version !== undefined) reactions = reactions.where("model_version", "=", query.version);
      if (query.target !== undefined) reactions = reactions.where("target", "=", query.target);
      const totals = await reactions.executeTakeFirstOrThrow();
      const thumbs = Number(totals.thumbs);
      const scored = Number(totals.scored);
      return {
        endpoint: query.endpoint,
        version: query.version ?? null,
        target: query.target ?? null,
        window: query.window,
        labeled: used.length,
        accuracy,
        macroF1,
        thumbs,
        thumbsUpRate: thumbs === 0 ? null : Number(totals.ups ?? 0) / thumbs,
        scored,
        meanScore: scored === 0 || totals.mean_score === null ? null : Number(totals.mean_score),
        truncated,
      };
    },
  };
}

export type FeedbackStore = ReturnType<typeof createFeedbackStore>;
