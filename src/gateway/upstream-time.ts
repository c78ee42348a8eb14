/**
 * Time spent on the model, which `x-modelport-overhead-ms` leaves out: what the runtime measured
 * itself when it can (network and generation only), else the router's timing of the successful
 * attempt; failed attempts and backoff before it count as waiting too (the model was unavailable).
 */
export function waitedOn(timing: { waitMs: number }, attemptMs: number, routedAt: number): number {
  const routerMs = performance.now() - routedAt;
  const failedMs = Math.max(0, routerMs - attemptMs);
  return failedMs + (timing.waitMs > 0 ? timing.waitMs : attemptMs);
}
