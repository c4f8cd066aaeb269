import { randomBytes } from 'node:crypto';

/** A database created for one test file (or one test) on a shared server of the test run. */
export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the shared server). */
  url: string;
  /** Database name: `sc_test_<pid>_<random>`. */
  name: string;
  /** Drops the database, closing any connection still open to it; safe to call more than once. */
  drop(): Promise<void>;
}

/** How to create and drop a database on one kind of server. */
export interface DatabaseAdmin {
  /** Runs one administrative statement on the server named by `serverUrl`. */
  query(serverUrl: string, sql: string): Promise<void>;
  createSql(name: string): string;
  dropSql(name: string): string;
}

/**
 * Creates a fresh, uniquely named database on the shared server at `serverUrl`, so test files that
 * run in parallel never see each other's tables.
 */
export async function createTestDatabase(
  serverUrl: string,
  admin: DatabaseAdmin,
): Promise<TestDatabase> {
  // Only [a-z0-9_]: safe to interpolate as an identifier and no quoting surprises.
  const name = `sc_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await admin.query(serverUrl, admin.createSql(name));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      await admin.query(serverUrl, admin.dropSql(name));
      dropped = true;
    },
  };
}
