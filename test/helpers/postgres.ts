import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import pg from "pg";

/**
 * PostgreSQL for integration tests: each suite gets its own fresh database on the local server,
 * so suites run in parallel and leave nothing behind.
 *
 * CI requires PostgreSQL, so an unreachable server is a FAILURE, not a silent skip. Set
 * `MODELPORT_TEST_SKIP_POSTGRES=1` to skip PostgreSQL suites on purpose (the reason is printed).
 *
 * Usage in a test file:
 *   const probe = await probePostgres();
 *   if (probe.state !== "ready") reportPostgresUnavailable("my suite", probe);
 *   else { const database = await createTestDatabase(probe.adminUrl); ...; await database.drop(); }
 */
export const defaultPostgresUrl = "postgres://postgres@127.0.0.1:5432/test";

/** The server to create test databases on (its own database is only used to run CREATE DATABASE). */
export function postgresAdminUrl(): string {
  const fromEnvironment = process.env.MODELPORT_TEST_POSTGRES_URL?.trim();
  return fromEnvironment === undefined || fromEnvironment === "" ? defaultPostgresUrl : fromEnvironment;
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

export type PostgresProbe =
  | { state: "ready"; adminUrl: string }
  | { state: "skipped"; reason: string }
  | { state: "unreachable"; message: string };

/** Checks once whether the server answers; decides skip vs. fail from the environment. */
export async function probePostgres(): Promise<PostgresProbe> {
  const adminUrl = postgresAdminUrl();
  if (process.env.MODELPORT_TEST_SKIP_POSTGRES === "1") {
    return { state: "skipped", reason: "MODELPORT_TEST_SKIP_POSTGRES=1 is set" };
  }
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("select 1");
    return { state: "ready", adminUrl };
  } catch (error) {
    const reason = error instanceof Error && error.message !== "" ? error.message : String(error);
    return {
      state: "unreachable",
      message:
        `PostgreSQL is required for this suite but ${redact(adminUrl)} is unreachable (${reason}). ` +
        "Start it, point MODELPORT_TEST_POSTGRES_URL at a server, or set MODELPORT_TEST_SKIP_POSTGRES=1 to skip.",
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Registers what a suite that cannot run should report: a skipped test carrying the reason when
 * skipping was asked for, otherwise a failing test whose message says how to fix it.
 */
export function reportPostgresUnavailable(suite: string, probe: Exclude<PostgresProbe, { state: "ready" }>): void {
  if (probe.state === "skipped") {
    console.warn(`skipping ${suite}: ${probe.reason}`);
    test(suite, { skip: probe.reason }, () => {});
    return;
  }
  test(`${suite}: PostgreSQL is reachable`, () => {
    assert.fail(probe.message);
  });
}

export interface PostgresTestDatabase {
  /** Connection URL of the fresh database. */
  readonly url: string;
  readonly name: string;
  /** Terminates its connections and drops it. Safe to call more than once. */
  drop(): Promise<void>;
}

async function withAdminClient<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates `mp_test_<random>`. It uses an ICU en-US collation where the server has ICU (as many
 * production databases use a linguistic locale), so tests catch code that relies on the
 * server's default byte-order collation; otherwise the server default.
 */
export async function createTestDatabase(adminUrl: string = postgresAdminUrl()): Promise<PostgresTestDatabase> {
  const name = `mp_test_${randomBytes(6).toString("hex")}`;
  await withAdminClient(adminUrl, async (client) => {
    try {
      await client.query(`create database ${name} template template0 locale_provider icu icu_locale 'en-US'`);
    } catch {
      await client.query(`create database ${name}`);
    }
  });

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () => {
      // `with (force)` (PostgreSQL 13+) terminates sessions still connected, e.g. a leaked pool.
      dropped ??= withAdminClient(adminUrl, async (client) => {
        await client.query(`drop database if exists ${name} with (force)`);
      });
      return dropped;
    },
  };
}
