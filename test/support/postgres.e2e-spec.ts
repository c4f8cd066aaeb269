import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgDatabase, pgAvailable, pgServerUrl, type PgTestDatabase } from './postgres.js';

/** Opens a client on `url`; the caller ends it. */
async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // A forced DROP DATABASE terminates open sessions; that must not surface as an unhandled error.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = await connect(pgServerUrl()!);
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await admin.end();
  }
}

describe.skipIf(!pgAvailable())('test databases on PostgreSQL', () => {
  const created: PgTestDatabase[] = [];
  const create = async () => {
    const db = await createPgDatabase();
    created.push(db);
    return db;
  };

  afterEach(async () => {
    await Promise.all(created.splice(0).map((db) => db.drop()));
  });

  it('runs on PostgreSQL 15 or later with the expected settings', async () => {
    const client = await connect(pgServerUrl()!);
    try {
      const { rows } = await client.query<{ version: string; encoding: string }>(
        "select current_setting('server_version_num')::int as version, " +
          'pg_encoding_to_char(encoding) as encoding from pg_database where datname = current_database()',
      );
      expect(Number(rows[0].version)).toBeGreaterThanOrEqual(150000);
      expect(rows[0].encoding).toBe('UTF8');
    } finally {
      await client.end();
    }
  });

  it('creates a database that accepts queries and DDL, then drops it', async () => {
    const db = await create();
    expect(db.name).toMatch(/^sc_test_\d+_[0-9a-f]{12}$/);
    expect(await databaseExists(db.name)).toBe(true);

    const client = await connect(db.url);
    try {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      expect((await client.query('select current_database() as name')).rows[0].name).toBe(db.name);
      await client.query('create table widgets (id int primary key, label text not null)');
      await client.query("insert into widgets values (1, 'a'), (2, 'ü')");
      const { rows } = await client.query('select label from widgets order by id');
      expect(rows).toEqual([{ label: 'a' }, { label: 'ü' }]);
      // Dropping must succeed even while a connection is still open (WITH (FORCE)).
      await db.drop();
    } finally {
      await client.end().catch(() => undefined);
    }
    expect(await databaseExists(db.name)).toBe(false);
    await expect(db.drop()).resolves.toBeUndefined();
  });

  it('gives every call its own database', async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(a.name).not.toBe(b.name);
    const clientA = await connect(a.url);
    const clientB = await connect(b.url);
    try {
      await clientA.query('create table only_in_a (id int)');
      const { rows } = await clientB.query("select to_regclass('only_in_a') as t");
      expect(rows[0].t).toBeNull();
    } finally {
      await Promise.all([clientA.end(), clientB.end()]);
    }
  });
});
