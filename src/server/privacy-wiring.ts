import type { ModelportConfig } from "../config/schema.js";
import type { ChatCompletion, ChatCompletionRequest } from "../core/openai-types.js";
import type { GuardProvider, PrivacyFilters } from "../core/privacy.js";
import {
  answerBlockedError,
  checkResponseGuards,
  createStreamResponseGuard,
  evaluateRequestGuards,
  type GuardPolicy,
  guardBlockedError,
  type ResponseGuardResult,
} from "../privacy/guards/index.js";
import {
  applyPolicy,
  createPseudonymSession,
  createStreamReidentifier,
  type PiiPolicy,
  reidentify,
} from "../privacy/pii/index.js";

/**
 * PII policies from the config, resolved per request: the tenant's policy if it has one, else the
 * endpoint's, else the default. A pseudonym session lives for one request.
 */
export function createPrivacyFilters(config: Readonly<ModelportConfig>): PrivacyFilters | undefined {
  const pii = config.pii;
  if (!pii) return undefined;
  const policyFor = (tenantName: string, endpoint: string): PiiPolicy | undefined =>
    (pii.tenants?.[tenantName] as PiiPolicy | undefined) ??
    (pii.endpoints?.[endpoint] as PiiPolicy | undefined) ??
    (pii.default as PiiPolicy | undefined);
  return {
    forRequest(tenantName, endpoint) {
      const policy = policyFor(tenantName, endpoint);
      if (!policy) return undefined;
      const session = createPseudonymSession();
      return {
        inbound(text) {
          const result = applyPolicy(text, policy, session);
          return {
            text: result.text,
            logText: result.logText,
            foundTypes: [...new Set(result.findings.map((finding) => finding.type))],
            ...(result.blocked ? { blockedTypes: result.blocked.types } : {}),
          };
        },
        restore: (text) => reidentify(text, session),
        restoreStream: () => createStreamReidentifier(session),
      };
    },
  };
}

/** Guard policies from the config (tenant, else endpoint, else default), as verdict functions. */
export function createGuardProvider(config: Readonly<ModelportConfig>): GuardProvider | undefined {
  const guards = config.guards;
  if (!guards) return undefined;
  return {
    forRequest(tenantName, endpoint) {
      const policy = (guards.tenants?.[tenantName] ?? guards.endpoints?.[endpoint] ?? guards.default) as
        | GuardPolicy
        | undefined;
      if (!policy) return undefined;
      return {
        checkRequest(request) {
          const result = evaluateRequestGuards(request as unknown as ChatCompletionRequest, policy);
          return {
            verdict: result.verdict,
            request: result.request as unknown as typeof request,
            findings: result.findings,
            ...(result.verdict === "block" ? { error: guardBlockedError(result.findings) } : {}),
          };
        },
        checkAnswer(request, answer) {
          return checkResponseGuards(request as unknown as ChatCompletionRequest, answer as ChatCompletion, policy);
        },
        checkStream(request) {
          const guard = createStreamResponseGuard(request as unknown as ChatCompletionRequest, policy);
          if (!guard) return undefined;
          const withError = (result: ResponseGuardResult) =>
            result.verdict === "block" ? { ...result, error: answerBlockedError(result.findings) } : result;
          return {
            push: (choiceIndex, delta) => withError(guard.push(choiceIndex, delta)),
            finish: () => withError(guard.finish()),
          };
        },
      };
    },
  };
}
