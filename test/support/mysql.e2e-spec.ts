import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, type MariadbServer } from '../../scripts/mariadb.mjs';
import {
  createMysqlDatabase,
  mysqlAvailable,
  mysqlServerUrl,
  type MysqlTestDatabase,
} from './mysql.js';

async function databaseExists(name: string): Promise<boolean> {
  const admin = await mysql.createConnection({ uri: mysqlServerUrl()! });
  try {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT 1 FROM information_schema.schemata WHERE schema_name = ?',
      [name],
    );
    return rows.length === 1;
  } finally {
    await admin.end();
  }
}

describe.skipIf(!mysqlAvailable())('test databases on MariaDB', () => {
  const created: MysqlTestDatabase[] = [];
  const create = async () => {
    const db = await createMysqlDatabase();
    created.push(db);
    return db;
  };

  afterEach(async () => {
    await Promise.all(created.splice(0).map((db) => db.drop()));
  });

  it('runs on MariaDB 10.6 or later with InnoDB', async () => {
    const connection = await mysql.createConnection({ uri: mysqlServerUrl()! });
    try {
      const [[row]] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT VERSION() AS version, @@default_storage_engine AS engine',
      );
      const [major, minor] = String(row.version).split('.').map(Number);
      expect(major * 100 + minor).toBeGreaterThanOrEqual(1006);
      expect(row.engine).toBe('InnoDB');
    } finally {
      await connection.end();
    }
  });

  it('creates a database that accepts queries and DDL, then drops it', async () => {
    const db = await create();
    expect(db.name).toMatch(/^sc_test_\d+_[0-9a-f]{12}$/);
    expect(await databaseExists(db.name)).toBe(true);
    const connection = await mysql.createConnection({ uri: db.url });
    try {
      const [[current]] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT DATABASE() AS name',
      );
      expect(current.name).toBe(db.name);
      await connection.query(
        'CREATE TABLE widgets (id int PRIMARY KEY, label text NOT NULL) ENGINE=InnoDB',
      );
      await connection.query("INSERT INTO widgets VALUES (1, 'a'), (2, 'ü'), (3, '😀')");
      const [rows] = await connection.query('SELECT label FROM widgets ORDER BY id');
      expect(rows).toEqual([{ label: 'a' }, { label: 'ü' }, { label: '😀' }]);
      // Dropping must succeed while a connection is still open.
      await db.drop();
    } finally {
      await connection.end().catch(() => undefined);
    }
    expect(await databaseExists(db.name)).toBe(false);
    await expect(db.drop()).resolves.toBeUndefined();
  });

  it('gives every call its own database', async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(a.name).not.toBe(b.name);
    const inA = await mysql.createConnection({ uri: a.url });
    const inB = await mysql.createConnection({ uri: b.url });
    try {
      await inA.query('CREATE TABLE only_in_a (id int)');
      const [rows] = await inB.query("SHOW TABLES LIKE 'only_in_a'");
      expect(rows).toEqual([]);
    } finally {
      await Promise.all([inA.end(), inB.end()]);
    }
  });
});

describe.skipIf(!mysqlAvailable())('a throw-away MariaDB server of its own', () => {
  let server: MariadbServer;
  beforeAll(async () => {
    server = await startMariadb();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('restarts on the same port with its data, dropping the connections it had', async () => {
    const before = await mysql.createConnection({ uri: server.url });
    before.on('error', () => undefined);
    await before.query('CREATE TABLE kept (id int PRIMARY KEY) ENGINE=InnoDB');
    await before.query('INSERT INTO kept VALUES (1), (2)');
    await server.restart();
    await expect(before.query('SELECT 1')).rejects.toThrow();
    before.destroy();
    const after = await mysql.createConnection({ uri: server.url });
    try {
      const [rows] = await after.query('SELECT id FROM kept ORDER BY id');
      expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await after.end();
    }
  });

  it('stops and removes its data directory, and a second stop does nothing', async () => {
    const { existsSync } = await import('node:fs');
    const other = await startMariadb();
    expect(existsSync(other.dataDir)).toBe(true);
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
    await expect(other.stop()).resolves.toBeUndefined();
    await expect(
      mysql.createConnection({ uri: other.url, connectTimeout: 2_000 }),
    ).rejects.toThrow();
  });
});
