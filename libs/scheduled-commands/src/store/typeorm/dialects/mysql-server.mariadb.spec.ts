import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, type MariadbServer } from '../../../../../../scripts/mariadb.mjs';
import {
  createMysqlDatabase,
  mysqlAvailable,
  type MysqlTestDatabase,
} from '../../../../../../test/support/mysql.js';
import { UnsupportedDatabaseError } from '../../../errors/unsupported-database.error.js';
import { inspectServer, MYSQL_ISOLATION_LEVEL, MYSQL_NOW_MS, mysqlErrno } from './mysql-server.js';

const open = async (type: 'mysql' | 'mariadb', url: string) =>
  new DataSource({ type, url, poolSize: 2 } as ConstructorParameters<
    typeof DataSource
  >[0]).initialize();

describe.skipIf(!mysqlAvailable())('the MySQL/MariaDB server checks on MariaDB', () => {
  let db: MysqlTestDatabase;
  beforeAll(async () => {
    db = await createMysqlDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each(['mysql', 'mariadb'] as const)(
    "TypeORM's %s driver connects, and the server passes the start-up check",
    async (type) => {
      const dataSource = await open(type, db.url);
      try {
        const version = await inspectServer((sql) => dataSource.query(sql));
        expect(version.flavor).toBe('mariadb');
        expect(version.version[0] * 100 + version.version[1]).toBeGreaterThanOrEqual(1006);
        // The database clock: UTC, in milliseconds, close to this process's clock.
        const [{ now }] = await dataSource.query(`SELECT ${MYSQL_NOW_MS} AS now`);
        expect(Math.abs(Number(now) - Date.now())).toBeLessThan(5_000);
      } finally {
        await dataSource.destroy();
      }
    },
  );

  it('runs a transaction started by TypeORM at the READ COMMITTED level the store asks for', async () => {
    const dataSource = await open('mariadb', db.url);
    const runner = dataSource.createQueryRunner();
    try {
      await runner.query('CREATE TABLE probe (id int PRIMARY KEY) ENGINE=InnoDB');
      await runner.startTransaction(MYSQL_ISOLATION_LEVEL);
      await runner.query('INSERT INTO probe VALUES (1)');
      const [trx] = await runner.query(
        'SELECT trx_isolation_level AS level FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()',
      );
      expect(trx.level).toBe('READ COMMITTED');
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
      await dataSource.destroy();
    }
  });
});

describe.skipIf(!mysqlAvailable())('a MariaDB server with a statement-based binary log', () => {
  let server: MariadbServer;
  let dataSource: DataSource;
  beforeAll(async () => {
    server = await startMariadb({
      serverArgs: ['--log-bin', '--binlog-format=STATEMENT', '--server-id=1'],
    });
    dataSource = await open('mariadb', server.url);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await server?.stop();
  });

  it('is refused at start-up with a typed error that names the setting', async () => {
    const error = await inspectServer((sql) => dataSource.query(sql)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedDatabaseError);
    expect(error).toMatchObject({ setting: 'binlog_format', found: 'STATEMENT' });
  });

  it('would indeed refuse the store a write at READ COMMITTED (what the check guards against)', async () => {
    await dataSource.query('CREATE TABLE probe (id int PRIMARY KEY) ENGINE=InnoDB');
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction(MYSQL_ISOLATION_LEVEL);
      const error = await runner.query('INSERT INTO probe VALUES (1)').catch((e: unknown) => e);
      await runner.rollbackTransaction();
      expect(error).toBeInstanceOf(Error);
      expect(mysqlErrno(error)).toBe(1665);
      const [{ n }] = await dataSource.query('SELECT COUNT(*) AS n FROM probe');
      expect(Number(n)).toBe(0);
    } finally {
      await runner.release();
    }
  });
});
