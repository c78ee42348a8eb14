import type { AdmissionScope, ScopeLimits } from "./limiter.js";

/**
 * Builds a request's admission scopes from what authentication found: the key's own limits and
 * its tenant's. Shaped to take `UsageLimits` records as stored (null = no limit at that level).
 */
export interface LimitSettings {
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
  concurrency?: number | null;
}

function scopeLimits(settings: LimitSettings | undefined): ScopeLimits | undefined {
  if (!settings) return undefined;
  const limits: ScopeLimits = {};
  if (settings.requestsPerMinute != null) limits.requestsPerMinute = settings.requestsPerMinute;
  if (settings.tokensPerMinute != null) limits.tokensPerMinute = settings.tokensPerMinute;
  if (settings.concurrency != null) limits.concurrency = settings.concurrency;
  return Object.keys(limits).length === 0 ? undefined : limits;
}

/** `key:<id>` then `tenant:<id>`; a level with no limit at all is left out (nothing to count). */
export function admissionScopes(input: {
  keyId: string;
  keyLimits?: LimitSettings;
  tenantId: string;
  tenantLimits?: LimitSettings;
}): AdmissionScope[] {
  const scopes: AdmissionScope[] = [];
  const keyLimits = scopeLimits(input.keyLimits);
  if (keyLimits) scopes.push({ key: `key:${input.keyId}`, limits: keyLimits });
  const tenantLimits = scopeLimits(input.tenantLimits);
  if (tenantLimits) scopes.push({ key: `tenant:${input.tenantId}`, limits: tenantLimits });
  return scopes;
}

/**
 * A cheap token estimate to reserve at admission: about four characters per prompt token plus
 * the completion allowance (`max_tokens`, or `defaultOutputTokens` when the client set none).
 * Settle corrects it to the real count, so cheapness matters more than precision here.
 */
export function estimateTokens(input: {
  promptCharacters: number;
  maxOutputTokens?: number | null;
  defaultOutputTokens?: number;
}): number {
  const prompt = Math.ceil(Math.max(0, input.promptCharacters) / 4);
  const output = input.maxOutputTokens ?? input.defaultOutputTokens ?? 256;
  return prompt + Math.max(0, Math.floor(output));
}
