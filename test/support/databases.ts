import { createPgDatabase, pgAvailable } from './postgres.js';
import { tempDatabase } from './app.js';

/** A fresh database opened by {@link TestDatabase.open}. */
export interface OpenedDatabase {
  /** TypeORM connection options (with `autoLoadEntities` and `synchronize`). */
  readonly typeorm: Record<string, unknown>;
  /** The SQL placeholder of parameter `n` (1-based): `?` on SQLite, `$n` on PostgreSQL. */
  param(n: number): string;
  /** Deletes the database. */
  close(): Promise<void>;
}

/** One kind of database a suite runs against. */
export interface TestDatabase {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** No server is available for it (PostgreSQL outside CI only, see `test/global-setup.ts`). */
  readonly skip: boolean;
  open(): Promise<OpenedDatabase>;
}

/** SQLite (a temporary file) and PostgreSQL (a new database on the test run's server). */
export const testDatabases: readonly TestDatabase[] = [
  {
    name: 'SQLite',
    skip: false,
    async open() {
      const temp = tempDatabase();
      return {
        typeorm: {
          type: 'better-sqlite3',
          database: temp.file,
          autoLoadEntities: true,
          synchronize: true,
        },
        param: () => '?',
        close: async () => temp.remove(),
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: !pgAvailable(),
    async open() {
      const db = await createPgDatabase();
      return {
        typeorm: {
          type: 'postgres',
          url: db.url,
          autoLoadEntities: true,
          synchronize: true,
          poolSize: 10,
        },
        param: (n) => `$${n}`,
        close: () => db.drop(),
      };
    },
  },
];
