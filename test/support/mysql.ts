import mysql from 'mysql2/promise';
import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** A database created for one test file (or one test) by {@link createMysqlDatabase}. */
export type MysqlTestDatabase = TestDatabase;

/**
 * URL of the MariaDB/MySQL server started by the global setup, or null when there is none
 * (only possible outside CI; see `test/global-setup.ts`).
 */
export function mysqlServerUrl(): string | null {
  return inject('mysqlUrl') ?? null;
}

/**
 * Whether a MariaDB/MySQL server is available to this run. Its suites use
 * `describe.skipIf(!mysqlAvailable())(...)`; in CI the global setup fails instead of returning false.
 */
export function mysqlAvailable(): boolean {
  return mysqlServerUrl() !== null;
}

/** Runs one statement on the server, outside any database of the tests. */
async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: serverUrl });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/**
 * Creates a fresh, uniquely named database on the shared MariaDB/MySQL server, so test files that
 * run in parallel never see each other's tables. Call `drop()` when done (typically in `afterAll`).
 *
 * @throws {Error} when no server is available (guard suites with {@link mysqlAvailable}).
 */
export async function createMysqlDatabase(): Promise<MysqlTestDatabase> {
  const serverUrl = mysqlServerUrl();
  if (!serverUrl) {
    throw new Error('No MariaDB/MySQL server is available; guard the suite with mysqlAvailable()');
  }
  return createTestDatabase(serverUrl, {
    query: adminQuery,
    createSql: (name) => `CREATE DATABASE ${name} CHARACTER SET utf8mb4`,
    dropSql: (name) => `DROP DATABASE IF EXISTS ${name}`,
  });
}
