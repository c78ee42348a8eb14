import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { JobRecord } from "./types.js";

/**
 * Where the in-process runner keeps its jobs so that a job it accepted survives the process:
 * every state change is written before (enqueue) or right after (start, finish) it happens.
 */
export interface JobJournal<P, R> {
  /** Every journaled record, oldest first. */
  load(): Promise<JobRecord<P, R>[]>;
  save(record: JobRecord<P, R>): Promise<void>;
  remove(jobId: string): Promise<void>;
}

const safeId = /^[A-Za-z0-9_-]{1,128}$/;

interface JournalEntry<P, R> {
  /** Enqueue order, for jobs created in the same millisecond. */
  seq: number;
  record: JobRecord<P, R>;
}

/**
 * One JSON file per job in `directory` (the server uses `<dataDir>/training/jobs`), replaced
 * atomically (write a temporary file, then rename); writes of one job run one after another.
 */
export function createFileJobJournal<P, R>(directory: string): JobJournal<P, R> {
  const chains = new Map<string, Promise<void>>();
  const sequence = new Map<string, number>();
  let nextSeq = 0;
  const fileOf = (jobId: string) => {
    if (!safeId.test(jobId))
      throw new ModelportError("MP_INVALID_REQUEST", `job id '${jobId}' is not a safe file name`, { param: "jobId" });
    return join(directory, `${jobId}.json`);
  };
  const serialize = (jobId: string, write: () => Promise<void>): Promise<void> => {
    const next = (chains.get(jobId) ?? Promise.resolve()).catch(() => undefined).then(write);
    chains.set(jobId, next);
    const forget = () => {
      if (chains.get(jobId) === next) chains.delete(jobId);
    };
    next.then(forget, forget);
    return next;
  };
  let ready: Promise<unknown> | undefined;
  const ensureDirectory = () => {
    ready ??= mkdir(directory, { recursive: true }).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };

  return {
    async load() {
      await ensureDirectory();
      const entries: JournalEntry<P, R>[] = [];
      for (const name of await readdir(directory)) {
        if (!name.endsWith(".json")) continue;
        try {
          const entry = JSON.parse(await readFile(join(directory, name), "utf8")) as JournalEntry<P, R>;
          if (typeof entry.seq !== "number" || typeof entry.record?.id !== "string") continue;
          entries.push(entry);
          sequence.set(entry.record.id, entry.seq);
          nextSeq = Math.max(nextSeq, entry.seq + 1);
        } catch {
          // A file cut short by a crash mid-write is never renamed into place; anything else
          // unreadable is skipped rather than blocking the server's start.
        }
      }
      const order = (a: JournalEntry<P, R>, b: JournalEntry<P, R>) =>
        a.record.createdAt < b.record.createdAt ? -1 : a.record.createdAt > b.record.createdAt ? 1 : a.seq - b.seq;
      return entries.sort(order).map((entry) => entry.record);
    },
    save(record) {
      const file = fileOf(record.id);
      let seq = sequence.get(record.id);
      if (seq === undefined) {
        seq = nextSeq++;
        sequence.set(record.id, seq);
      }
      const snapshot = JSON.stringify({ seq, record } satisfies JournalEntry<P, R>);
      return serialize(record.id, async () => {
        await ensureDirectory();
        const temporary = `${file}.${randomId("tmp")}`;
        await writeFile(temporary, snapshot);
        await rename(temporary, file);
      });
    },
    remove(jobId) {
      const file = fileOf(jobId);
      sequence.delete(jobId);
      return serialize(jobId, () => rm(file, { force: true }));
    },
  };
}
