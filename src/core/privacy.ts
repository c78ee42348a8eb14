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
