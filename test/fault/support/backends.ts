import mysql from 'mysql2/promise';
import { startMariadb } from '../../../scripts/mariadb.mjs';
import { startPostgres } from '../../../scripts/pg.mjs';
import { createMysqlDatabase, mysqlAvailable } from '../../support/mysql.js';
import { createPgDatabase, pgAvailable } from '../../support/postgres.js';
import { MysqlCommandTable, PgCommandTable, type ServerCommandTable } from './inspect.js';
import type { FaultDatabase } from './processes.js';
import type { ScenarioDatabase } from './scenario.js';

/** A database of a fault scenario on a server: what the instances use and how the test reads it. */
export interface BackendDatabase {
  /** What the scenario's cluster connects to. */
  readonly database: FaultDatabase;
  /** A new reader of its commands table (register it with `scenario.track`). */
  table(): ServerCommandTable;
  /** Drops the database or stops the server; called by the scenario's tear-down. */
  close(): Promise<void>;
}

/** A server of the scenario's own, which it may restart. */
export interface BackendServer extends BackendDatabase {
  /** Stops the server cleanly, dropping every connection, and starts it again with its data. */
  restart(): Promise<void>;
}

/** A database server the fault scenarios run on. */
export interface FaultBackend {
  readonly name: 'PostgreSQL' | 'MariaDB';
  /** Whether the test run has this server (always in CI, see `test/global-setup.ts`). */
  available(): boolean;
  /** Whether instances wake each other up with `LISTEN/NOTIFY` (PostgreSQL only). */
  readonly notifies: boolean;
  /** A fresh database on the test run's shared server, dropped afterwards. */
  readonly shared: ScenarioDatabase<BackendDatabase>;
  /**
   * A server of the scenario's own, stopped afterwards: for scenarios that restart it (restarting
   * the shared one would break the other suites' connections).
   */
  readonly own: ScenarioDatabase<BackendServer>;
}

/**
 * MariaDB users named after the instances, each granted every privilege on the database of
 * `adminUrl`: the process list then tells whose connections are open (MariaDB has no
 * `application_name`). `drop()` removes the users made.
 */
function mysqlInstanceUsers(adminUrl: string): Pick<FaultDatabase, 'urlFor'> & {
  drop(): Promise<void>;
} {
  const made = new Set<string>();
  const database = new URL(adminUrl).pathname.slice(1);
  const admin = async (statements: string[]) => {
    const connection = await mysql.createConnection({ uri: adminUrl });
    try {
      for (const sql of statements) await connection.query(sql);
    } finally {
      await connection.end();
    }
  };
  return {
    async urlFor(name) {
      if (!/^[a-z0-9_-]{1,64}$/i.test(name)) throw new Error(`unusable user name ${name}`);
      if (!made.has(name)) {
        await admin([
          `CREATE USER IF NOT EXISTS '${name}'@'%'`,
          `GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${name}'@'%'`,
        ]);
        made.add(name);
      }
      const url = new URL(adminUrl);
      url.username = name;
      url.password = '';
      return url.toString();
    },
    async drop() {
      if (made.size === 0) return;
      await admin([...made].map((name) => `DROP USER IF EXISTS '${name}'@'%'`));
      made.clear();
    },
  };
}

/** The scenario database `open()` gives; closed with its own `close()`. */
const source = <D extends BackendDatabase>(open: () => Promise<D>): ScenarioDatabase<D> => ({
  open,
  close: (opened) => opened.close(),
});

/** {@link BackendDatabase} on MariaDB at `url`, with a user per instance, `close` run after dropping them. */
function mariadbDatabase(url: string, close: () => Promise<void>): BackendDatabase {
  const users = mysqlInstanceUsers(url);
  return {
    database: { kind: 'mariadb', url, urlFor: users.urlFor },
    table: () => new MysqlCommandTable(url),
    async close() {
      await users.drop();
      await close();
    },
  };
}

/** PostgreSQL and MariaDB: the fault scenarios that need a server run on each. */
export const faultBackends: readonly FaultBackend[] = [
  {
    name: 'PostgreSQL',
    available: pgAvailable,
    notifies: true,
    shared: source(async () => {
      const db = await createPgDatabase();
      return {
        database: { kind: 'postgres', url: db.url },
        table: () => new PgCommandTable(db.url),
        close: () => db.drop(),
      };
    }),
    own: source(async () => {
      const server = await startPostgres();
      return {
        database: { kind: 'postgres', url: server.url },
        table: () => new PgCommandTable(server.url),
        restart: () => server.restart(),
        close: () => server.stop(),
      };
    }),
  },
  {
    name: 'MariaDB',
    available: mysqlAvailable,
    notifies: false,
    shared: source(async () => {
      const db = await createMysqlDatabase();
      return mariadbDatabase(db.url, () => db.drop());
    }),
    own: source(async () => {
      const server = await startMariadb();
      return {
        ...mariadbDatabase(server.url, () => server.stop()),
        restart: () => server.restart(),
      };
    }),
  },
];
