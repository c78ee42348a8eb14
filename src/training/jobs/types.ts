/** A background job runner: the in-process queue and the BullMQ adapter share this interface. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed";
export const jobStatuses: readonly JobStatus[] = ["queued", "running", "succeeded", "failed"];

export interface JobRecord<P = unknown, R = unknown> {
  id: string;
  status: JobStatus;
  payload: P;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** The last progress the processor reported. */
  progress: unknown;
  result: R | null;
  error: string | null;
}

export type JobEvent<R = unknown> =
  | { type: "progress"; jobId: string; progress: unknown }
  | { type: "status"; jobId: string; status: JobStatus; result?: R | null; error?: string | null };

export interface JobContext {
  jobId: string;
  /** Streams a progress event to subscribers (throttle per batch on the caller's side if needed). */
  report(progress: unknown): void;
  /**
   * Aborted when the runner closes (server shutdown): the processor stops between steps and
   * throws; the runner then puts the job back in the queue instead of failing it.
   */
  signal: AbortSignal;
}

export type JobProcessor<P, R> = (payload: P, context: JobContext) => Promise<R>;

export interface JobRunner<P = unknown, R = unknown> {
  enqueue(payload: P, options?: { jobId?: string }): Promise<JobRecord<P, R>>;
  get(jobId: string): Promise<JobRecord<P, R> | undefined>;
  /** Newest first (the BullMQ adapter lists what Redis still holds). */
  list(): Promise<JobRecord<P, R>[]>;
  /** How many jobs are in each status now (for the queue-depth gauges). */
  counts(): Promise<Record<JobStatus, number>>;
  /** Events of one job until it ends; returns an unsubscribe function. */
  subscribe(jobId: string, listener: (event: JobEvent<R>) => void): () => void;
  /** Resolves with the job's final record (succeeded or failed). */
  waitFor(jobId: string, timeoutMs?: number): Promise<JobRecord<P, R>>;
  /**
   * Stops taking jobs. Running jobs are aborted (their signal fires) and go back to the queue, so
   * a job accepted is never lost: the next start (in-process: from the journal; BullMQ: from
   * Redis) runs it again from the beginning.
   */
  close(): Promise<void>;
}

export const isFinished = (status: JobStatus): boolean => status === "succeeded" || status === "failed";
