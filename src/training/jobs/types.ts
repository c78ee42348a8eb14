/** A background job runner: the in-process queue and the BullMQ adapter share this interface. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed";

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
}

export type JobProcessor<P, R> = (payload: P, context: JobContext) => Promise<R>;

export interface JobRunner<P = unknown, R = unknown> {
  enqueue(payload: P, options?: { jobId?: string }): Promise<JobRecord<P, R>>;
  get(jobId: string): Promise<JobRecord<P, R> | undefined>;
  /** Newest first (the BullMQ adapter lists what Redis still holds). */
  list(): Promise<JobRecord<P, R>[]>;
  /** Events of one job until it ends; returns an unsubscribe function. */
  subscribe(jobId: string, listener: (event: JobEvent<R>) => void): () => void;
  /** Resolves with the job's final record (succeeded or failed). */
  waitFor(jobId: string, timeoutMs?: number): Promise<JobRecord<P, R>>;
  close(): Promise<void>;
}
