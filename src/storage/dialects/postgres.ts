import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { ModelportError } from "../../core/errors.js";
import type { DatabaseHandle, StorageLogger } from "../database-handle.js";
import type { Database } from "../schema.js";
import { describeError } from "./describe-error.js";

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

interface ParsedUrl {
  /** `postgres://user@host:port/database`: safe to print. */
  location: string;
  /** Strings that must never appear in a message (the password, raw and decoded). */
  secrets: string[];
}

function parsePostgresUrl(url: string): ParsedUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    // Do not echo the URL: it may hold a password.
    throw new ModelportError(
      "MP_STORAGE_ERROR",
      "the database URL is not a valid URL (expected postgres://user:password@host:port/database)",
      { cause: error },
    );
  }
  const user = decodeURIComponent(parsed.username);
  const host = parsed.hostname || parsed.searchParams.get("host") || "localhost";
  const port = parsed.port || "5432";
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || user;
  const secrets = [parsed.password, decodeURIComponent(parsed.password)].filter((secret) => secret !== "");
  return { location: `postgres://${user === "" ? "" : `${user}@`}${host}:${port}/${database}`, secrets };
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}

/**
 * A pg pool behind kysely. Connects once before returning, so a wrong host or password fails at
 * startup with a message naming the server (never the password) instead of at the first request.
 */
export async function connectPostgres(url: string, logger?: StorageLogger): Promise<DatabaseHandle> {
  const { location, secrets } = parsePostgresUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5_000,
    application_name: "modelport",
  });
  // An idle client losing its server emits 'error' on the pool; unhandled, that would crash the
  // process. The pool drops the client and the next query reconnects.
  pool.on("error", (error) => {
    logger?.warn(`PostgreSQL connection to ${location} failed: ${scrub(describeError(error), secrets)}`);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= db.destroy();
    return closing;
  };

  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await close().catch(() => undefined);
    throw new ModelportError(
      "MP_STORAGE_ERROR",
      `cannot connect to PostgreSQL at ${location}: ${scrub(describeError(error), secrets)}`,
      { cause: error },
    );
  }
  return { db, dialect: "postgres", location, close };
}
