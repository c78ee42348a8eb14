/**
 * The port the gateway uses for PII policies (privacy/pii implements it; server/ wires it). One
 * filter per request: it rewrites what goes to the model, keeps a masked copy for logs, and
 * re-identifies pseudonyms in what comes back. Verdicts, not exceptions: a block is returned.
 */
export interface InboundResult {
  /** What the model receives. */
  text: string;
  /** What logs and stored payloads receive: every non-allowed finding masked. */
  logText: string;
  /** Entity types that the policy blocks; the gateway answers 400 naming them. */
  blockedTypes?: string[];
  /** Entity types found (for the request log's guard verdicts). */
  foundTypes: string[];
}

export interface StreamRestorer {
  /** Returns the text safe to emit now (a placeholder split across chunks is held back). */
  push(delta: string): string;
  /** The held-back rest, at the end of the stream. */
  flush(): string;
}

export interface RequestPrivacyFilter {
  inbound(text: string): InboundResult;
  /** Pseudonyms back to the original values, in a whole answer. */
  restore(text: string): string;
  /** The same for a stream, one restorer per choice. */
  restoreStream(): StreamRestorer;
}

export interface PrivacyFilters {
  /** The filter for a request of this tenant to this endpoint, or undefined when no policy applies. */
  forRequest(tenantName: string, endpoint: string): RequestPrivacyFilter | undefined;
}

/** Verdicts of the input/output guards for one request (privacy/guards implements them). */
export interface RequestGuards {
  /** Caps and prompt-injection checks; `request` is the (possibly clamped) request to send on. */
  checkRequest<R extends { messages: unknown[] }>(
    request: R,
  ): { verdict: "allow" | "flag" | "modify" | "block"; request: R; error?: Error; findings: unknown[] };
  /** System-prompt echo in a whole answer. */
  checkAnswer(
    request: { messages: unknown[] },
    answer: unknown,
  ): { verdict: "allow" | "flag" | "block"; findings: unknown[] };
  /**
   * System-prompt echo in a streamed answer, fed delta by delta; undefined when there is nothing
   * to check (echo off, or no system prompt), so the stream then runs without a per-chunk call.
   */
  checkStream?(request: { messages: unknown[] }): StreamAnswerGuard | undefined;
}

export interface StreamAnswerVerdict {
  verdict: "allow" | "flag" | "block";
  /** Every finding so far (grows; once echoed, a choice stays echoed). */
  findings: unknown[];
  /** With a block: the error the stream ends with (never contains the echoed text). */
  error?: Error;
}

export interface StreamAnswerGuard {
  /** One content delta of choice `choiceIndex`. A block means: do not deliver this delta or any after it. */
  push(choiceIndex: number, delta: string): StreamAnswerVerdict;
  /** End of the stream: the last partial words are checked too. */
  finish(): StreamAnswerVerdict;
}

export interface GuardProvider {
  forRequest(tenantName: string, endpoint: string): RequestGuards | undefined;
}
