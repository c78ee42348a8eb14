import type { Context } from "hono";
import { admissionScopes, decisionHeaders, rateLimitError } from "../../commerce/limits/index.js";
import type { AdmissionTicket, RateLimiter } from "../../commerce/limits/limiter.js";
import type { BudgetPort, MeteringPort } from "../../core/metering.js";
import type { GatewayEnv, RequestUsage } from "../context.js";

/** What a request holds after admission: finishing it settles or releases its reservation. */
export interface Admission {
  finish(usage: RequestUsage | undefined, succeeded: boolean): void;
}

/**
 * The limits stage, run by each protocol handler once the body is parsed (token limits need an
 * estimate): checks the key's and the tenant's requests/tokens per minute and concurrency in one
 * atomic step, sets the `x-ratelimit-*` headers, and refuses with 429 + Retry-After. The request
 * context finishes the admission when the request (or its stream) is over: settled to the real
 * token count, or released when nothing was produced.
 */
export async function admit(
  c: Context<GatewayEnv>,
  limiter: RateLimiter | undefined,
  estimatedTokens: number,
  onError: (error: unknown) => void,
): Promise<void> {
  const principal = c.get("principal");
  if (!limiter || !principal) return;
  const scopes = admissionScopes({
    keyId: principal.keyId,
    keyLimits: principal.keyLimits,
    tenantId: principal.tenantId,
    tenantLimits: principal.tenantLimits,
  });
  if (scopes.length === 0) return;
  const decision = await limiter.admit({ scopes, estimatedTokens });
  for (const [name, value] of Object.entries(decisionHeaders(decision))) c.header(name, value);
  if (!decision.allowed) throw rateLimitError(decision);
  const ticket: AdmissionTicket = decision.ticket;
  let finished = false;
  c.set("admission", {
    finish(usage, succeeded) {
      if (finished) return;
      finished = true;
      const done =
        succeeded || usage
          ? limiter.settle(ticket, { tokens: usage ? usage.inputTokens + usage.outputTokens : 0 })
          : limiter.release(ticket);
      done.catch(onError);
    },
  });
}

/** Characters in a chat request's messages: the prompt side of the token estimate. */
export function promptCharacters(messages: readonly { content?: unknown }[]): number {
  let total = 0;
  for (const message of messages) {
    const content = message.content;
    if (typeof content === "string") total += content.length;
    else if (Array.isArray(content))
      for (const part of content) if (typeof part?.text === "string") total += part.text.length;
  }
  return total;
}

/**
 * The budget stage, after the rate limits: reserves the request's most possible cost against the
 * key's and the tenant's monthly budgets (MP_BUDGET_EXCEEDED when it does not fit); the request
 * context settles it to the real charge at the end.
 */
export async function reserveBudget(
  c: Context<GatewayEnv>,
  budgets: BudgetPort | undefined,
  metering: MeteringPort | undefined,
  endpoint: string,
  quantities: { inputTokens: number; outputTokens: number; items: number },
): Promise<void> {
  const principal = c.get("principal");
  if (!budgets || !metering || !principal) return;
  const keyBudgetMicros = principal.keyLimits.monthlyBudgetMicros;
  const tenantBudgetMicros = principal.tenantLimits.monthlyBudgetMicros;
  if (keyBudgetMicros === null && tenantBudgetMicros === null) return;
  const party = { tenantId: principal.tenantId, keyId: principal.keyId };
  const reservation = await budgets.reserve(
    { ...party, keyBudgetMicros, tenantBudgetMicros },
    metering.estimateMicros(party, endpoint, quantities),
  );
  if (reservation) c.set("budget", reservation);
}
