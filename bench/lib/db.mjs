/**
 * PostgreSQL utilities of the benchmark runner: one database per system and scenario on the shared
 * throw-away server, a table-lock start gate, and polling for completion.
 */
import pg from 'pg';
import { now, sleep } from './processes.mjs';

/** A connection URL to database `name` on the server of `serverUrl`. */
export function databaseUrl(serverUrl, name) {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn(client)` on a fresh connection to `url`. */
export async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

let counter = 0;

/** Creates an empty database with a unique name based on `label` and returns its URL and a `drop()`. */
export async function createDatabase(serverUrl, label) {
  const name = `bench_${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${++counter}`;
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(serverUrl, name);
  return {
    name,
    url,
    drop: () =>
      withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(
        () => undefined,
      ),
  };
}

/**
 * Start gate: a transaction holding `ACCESS EXCLUSIVE` on `table`, so that workers can boot and
 * block on their first query of it. `open()` commits and returns the time it did. Jobs inserted
 * through `client` appear at that moment.
 */
export async function lockTable(url, table) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    /** The connection holding the lock: what it writes appears when the gate opens. */
    client,
    async open() {
      await client.query('COMMIT');
      const t = now();
      await client.end().catch(() => undefined);
      return t;
    },
    async abort() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * Polls `sql` (one row, one numeric column) every `intervalMs` until it returns `target` or more,
 * and returns the time of the first poll that saw it (the client's clock).
 */
export async function pollUntil(client, sql, target, { intervalMs = 5, timeoutMs = 600_000 } = {}) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query(sql);
    const t = now();
    if (Number(Object.values(rows[0])[0]) >= target) return t;
    if (t > deadline)
      throw new Error(
        `timed out waiting for: ${sql} >= ${target} (last ${Object.values(rows[0])[0]})`,
      );
    await sleep(intervalMs);
  }
}
