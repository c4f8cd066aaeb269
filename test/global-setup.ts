import mysql from 'mysql2/promise';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startMariadb } from '../scripts/mariadb.mjs';
import { startPostgres } from '../scripts/pg.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server shared by the test run, or null when none could be started. */
    pgUrl: string | null;
    /** URL of the MariaDB (or MySQL) server shared by the test run, or null when none could be started. */
    mysqlUrl: string | null;
  }
}

/** Environment variable that holds (or, when set beforehand, selects) the PostgreSQL server URL. */
export const PG_URL_ENV = 'SCHEDULED_COMMANDS_PG_URL';
/** Environment variable that holds (or, when set beforehand, selects) the MariaDB/MySQL server URL. */
export const MYSQL_URL_ENV = 'SCHEDULED_COMMANDS_MYSQL_URL';

/** One kind of database server the suites need. */
interface ServerKind {
  /** Name in messages. */
  readonly label: string;
  /** Environment variable naming an external server, and exporting the URL to the workers. */
  readonly env: string;
  /** Key under which the URL is provided. */
  readonly key: 'pgUrl' | 'mysqlUrl';
  /** Starts a throw-away server. */
  start(): Promise<{ url: string; stop(): Promise<void> }>;
  /** Fails unless a client can connect to `url` and run a query. */
  assertReachable(url: string): Promise<void>;
}

const KINDS: readonly ServerKind[] = [
  {
    label: 'PostgreSQL',
    env: PG_URL_ENV,
    key: 'pgUrl',
    start: () => startPostgres(),
    async assertReachable(url) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
      try {
        await client.connect();
        await client.query('select 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  },
  {
    label: 'MariaDB',
    env: MYSQL_URL_ENV,
    key: 'mysqlUrl',
    start: () => startMariadb(),
    async assertReachable(url) {
      const connection = await mysql.createConnection({ uri: url, connectTimeout: 10_000 });
      try {
        await connection.query('select 1');
      } finally {
        await connection.end().catch(() => undefined);
      }
    },
  },
];

/**
 * Makes one server of `kind` available: the one named by its environment variable when set,
 * otherwise a throw-away one. Returns its URL (null when none is available outside CI) and the
 * server to stop, if this setup started it.
 */
async function provideServer(
  kind: ServerKind,
): Promise<{ url: string | null; stop?: () => Promise<void> }> {
  const external = process.env[kind.env];
  try {
    if (external) {
      await kind.assertReachable(external).catch((error: Error) => {
        throw new Error(`cannot connect to ${kind.env}: ${error.message}`);
      });
      return { url: external };
    }
    const started = performance.now();
    const server = await kind.start();
    if (process.env.CI === 'true') {
      console.log(`${kind.label} started in ${Math.round(performance.now() - started)} ms`);
    }
    return { url: server.url, stop: () => server.stop() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI === 'true') {
      const details = (error as { details?: string }).details;
      throw new Error(
        `${kind.label} could not be started (${reason}); CI must run the ${kind.label} suites` +
          (details ? `\n${details}` : ''),
        { cause: error },
      );
    }
    console.warn(
      `${kind.label} could not be started (${reason}): ${kind.label} suites are skipped`,
    );
    return { url: null };
  }
}

/**
 * Vitest global setup: makes one PostgreSQL server and one MariaDB server available to every test
 * file.
 *
 * For each, uses the server named by `SCHEDULED_COMMANDS_PG_URL` / `SCHEDULED_COMMANDS_MYSQL_URL`
 * when it is set, otherwise starts a throw-away one (`startPostgres()`, `startMariadb()`), both at
 * once. The URLs are provided as `pgUrl` and `mysqlUrl` (see `inject`) and exported to workers
 * through the same environment variables. When a server is not available its suites are skipped,
 * except with `CI=true`, where this throws so that the run fails.
 *
 * @returns the teardown, which stops the servers this setup started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const results = await Promise.allSettled(KINDS.map((kind) => provideServer(kind)));
  const stops = results.flatMap((r) => (r.status === 'fulfilled' && r.value.stop) || []);
  const teardown = async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await teardown();
    throw failed.reason;
  }
  KINDS.forEach((kind, i) => {
    const { url } = (results[i] as PromiseFulfilledResult<{ url: string | null }>).value;
    if (url) process.env[kind.env] = url;
    else delete process.env[kind.env];
    project.provide(kind.key, url);
  });
  return teardown;
}
