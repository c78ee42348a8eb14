import type { OipInferRequest } from "./oip-types.js";
import type { ChatMessage, CompletionUsage, EmbeddingsRequest } from "./openai-types.js";

/** Who is billed for a request. */
export interface BillingParty {
  tenantId: string;
  keyId: string;
}

export interface MeteringContext extends BillingParty {
  requestId: string;
  endpoint: string;
  target: string | null;
  /** `partial`: a stream cut short (client gone, upstream failed); what was delivered is billed. */
  status: "ok" | "partial";
}

export interface MeteredUsage {
  inputTokens: number;
  outputTokens: number;
  items: number;
  costMicros: number;
}

/**
 * The port the gateway bills through (commerce implements it; server/ wires it). Each `record*`
 * counts (upstream usage, else our tokenizer), prices at the version in effect, and resolves once
 * the usage record is durable (journaled), so the gateway can acknowledge the response after it.
 */
export interface MeteringPort {
  recordChat(
    context: MeteringContext,
    usage: { reported: CompletionUsage | null | undefined; messages: readonly ChatMessage[]; completionText: string },
  ): Promise<MeteredUsage>;
  recordEmbeddings(
    context: MeteringContext,
    usage: { reported: { prompt_tokens?: unknown } | null | undefined; request: EmbeddingsRequest },
  ): Promise<MeteredUsage>;
  recordPredict(context: MeteringContext, request: OipInferRequest): Promise<MeteredUsage>;
  /** The most a request can cost, for budget reservations (micro-units). */
  estimateMicros(
    party: BillingParty,
    endpoint: string,
    quantities: { inputTokens: number; outputTokens: number; items: number },
  ): number;
}

/** Monthly budgets: a reservation at admission, settled to the real cost when the request ends. */
export interface BudgetPort {
  reserve(
    party: BillingParty & { keyBudgetMicros: number | null; tenantBudgetMicros: number | null },
    estimateMicros: number,
  ): Promise<{ settle(actualMicros: number): void } | undefined>;
}
