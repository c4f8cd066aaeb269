import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startPostgres, type PostgresServer } from '../scripts/pg.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server shared by the test run, or null when none could be started. */
    pgUrl: string | null;
  }
}

/** Environment variable that holds (or, when set beforehand, selects) the PostgreSQL server URL. */
export const PG_URL_ENV = 'SCHEDULED_COMMANDS_PG_URL';

/** Fails unless a client can connect to `url` and run a query. */
async function assertReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Vitest global setup: makes one PostgreSQL server available to every test file.
 *
 * Uses the server named by `SCHEDULED_COMMANDS_PG_URL` when it is set, otherwise starts a
 * throw-away one with `startPostgres()`. The URL is provided as `pgUrl` (see `inject`) and exported
 * to workers through `SCHEDULED_COMMANDS_PG_URL`. When no server is available the PostgreSQL suites
 * are skipped, except with `CI=true`, where this throws so that the run fails.
 *
 * @returns the teardown, which stops the server this setup started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: PostgresServer | undefined;
  const external = process.env[PG_URL_ENV];
  let url: string | null = null;
  try {
    if (external) {
      await assertReachable(external).catch((error: Error) => {
        throw new Error(`cannot connect to ${PG_URL_ENV}: ${error.message}`);
      });
      url = external;
    } else {
      server = await startPostgres();
      url = server.url;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI === 'true') {
      const details = (error as { details?: string }).details;
      throw new Error(
        `PostgreSQL could not be started (${reason}); CI must run the PostgreSQL suites` +
          (details ? `\n${details}` : ''),
        { cause: error },
      );
    }
    console.warn(`PostgreSQL could not be started (${reason}): PostgreSQL suites are skipped`);
    delete process.env[PG_URL_ENV];
  }

  if (url) process.env[PG_URL_ENV] = url;
  project.provide('pgUrl', url);

  return async () => {
    await server?.stop();
  };
}
