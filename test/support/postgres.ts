import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** A database created for one test file (or one test) by {@link createPgDatabase}. */
export interface PgTestDatabase {
  /** Connection URL of the new database (same server and credentials as the shared server). */
  url: string;
  /** Database name: `sc_test_<pid>_<random>`. */
  name: string;
  /** Drops the database, closing any connection still open to it; safe to call more than once. */
  drop(): Promise<void>;
}

/**
 * URL of the PostgreSQL server started by the global setup, or null when there is none
 * (only possible outside CI; see `test/global-setup.ts`).
 */
export function pgServerUrl(): string | null {
  return inject('pgUrl') ?? null;
}

/**
 * Whether a PostgreSQL server is available to this run. PostgreSQL suites use
 * `describe.skipIf(!pgAvailable())(...)`; in CI the global setup fails instead of returning false.
 */
export function pgAvailable(): boolean {
  return pgServerUrl() !== null;
}

/** Runs one statement on the server's administrative database. */
async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh, uniquely named database on the shared PostgreSQL server, so test files that run
 * in parallel never see each other's tables. Call `drop()` when done (typically in `afterAll`).
 *
 * @throws {Error} when no PostgreSQL server is available (guard suites with {@link pgAvailable}).
 */
export async function createPgDatabase(): Promise<PgTestDatabase> {
  const serverUrl = pgServerUrl();
  if (!serverUrl) {
    throw new Error('No PostgreSQL server is available; guard the suite with pgAvailable()');
  }
  // Only [a-z0-9_]: safe to interpolate as an identifier and no quoting surprises.
  const name = `sc_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      dropped = true;
    },
  };
}
