import pg from 'pg';
import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** A database created for one test file (or one test) by {@link createPgDatabase}. */
export type PgTestDatabase = TestDatabase;

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
  return createTestDatabase(serverUrl, {
    query: adminQuery,
    createSql: (name) => `CREATE DATABASE "${name}"`,
    dropSql: (name) => `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`,
  });
}
