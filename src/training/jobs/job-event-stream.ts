import { isFinished, type JobEvent, type JobRecord, type JobRunner } from "./types.js";

export interface JobEventStreamOptions<P, R> {
  runner: JobRunner<P, R>;
  jobId: string;
  /** The JSON a `status` event carries. */
  view: (record: JobRecord<P, R>) => unknown;
  /** The SSE event name of a progress payload (default `progress`). */
  progressEvent?: (progress: unknown) => string;
  /** Ends every open stream with a `shutdown` event (the server is draining). */
  shutdown?: AbortSignal;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  keepAliveMs?: number;
  /** The record is re-read this often, so a missed end event cannot leave a stream open (default 2 s). */
  pollMs?: number;
}

/**
 * Server-Sent Events for one job: first a `status` event with the job as it is now, then its
 * progress events as they happen, then a final `status` event (succeeded or failed, with the
 * result or error) and the end of the stream. A job that already ended gets only the final event.
 */
export function jobEventStream<P, R>(options: JobEventStreamOptions<P, R>): ReadableStream<Uint8Array> {
  const { runner, jobId, view } = options;
  const progressEvent = options.progressEvent ?? (() => "progress");
  const encoder = new TextEncoder();
  let cleanup = () => {};

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      let ended = false;
      let finishing = false;
      const write = (text: string) => {
        if (!ended) controller.enqueue(encoder.encode(text));
      };
      const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const end = () => {
        if (ended) return;
        ended = true;
        cleanup();
        controller.close();
      };
      const finish = async (record?: JobRecord<P, R>) => {
        if (finishing) return;
        finishing = true;
        const final = record ?? (await runner.get(jobId).catch(() => undefined));
        if (final !== undefined) send("status", view(final));
        end();
      };
      const handle = (event: JobEvent<R>) => {
        if (ended || finishing) return;
        if (event.type === "progress") send(progressEvent(event.progress), event.progress);
        else if (isFinished(event.status)) void finish();
        else send("status", { id: jobId, status: event.status });
      };

      // Subscribe before reading the record, so nothing between the two is lost.
      let buffered: JobEvent<R>[] | undefined = [];
      const unsubscribe = runner.subscribe(jobId, (event) => (buffered ? buffered.push(event) : handle(event)));
      const keepAlive = setInterval(() => write(": keep-alive\n\n"), options.keepAliveMs ?? 15_000);
      const poll = setInterval(() => {
        void runner.get(jobId).then(
          (record) => {
            if (record === undefined || isFinished(record.status)) void finish(record);
          },
          () => undefined,
        );
      }, options.pollMs ?? 2_000);
      const onShutdown = () => {
        send("shutdown", { id: jobId, message: "the server is shutting down; reconnect to keep following the job" });
        end();
      };
      cleanup = () => {
        unsubscribe();
        clearInterval(keepAlive);
        clearInterval(poll);
        options.shutdown?.removeEventListener("abort", onShutdown);
      };
      if (options.shutdown?.aborted) return onShutdown();
      options.shutdown?.addEventListener("abort", onShutdown, { once: true });

      const record = await runner.get(jobId).catch(() => undefined);
      if (record === undefined || isFinished(record.status)) return finish(record);
      send("status", view(record));
      const early = buffered;
      buffered = undefined;
      for (const event of early) handle(event);
    },
    cancel() {
      cleanup();
    },
  });
}
