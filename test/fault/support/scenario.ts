import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer } from '../../../scripts/pg.mjs';
import { createPgDatabase, type PgTestDatabase } from '../../support/postgres.js';
import { acquireFaultLock, buildLibrary } from './build.js';
import type { CommandTable } from './inspect.js';
import { FaultCluster, removeScenarioDir, scenarioDir, type FaultDatabase } from './processes.js';

/** How a scenario gets its database and lets go of it. */
export interface ScenarioDatabase<D> {
  /** Opens the database; called once the fault lock is held and the library is built. */
  open(): Promise<D>;
  /** Closes it, after every process has stopped and every table reader is closed. */
  close(database: D): Promise<void>;
}

/** A fresh database on the shared PostgreSQL server of the test run, dropped afterwards. */
export const sharedPgDatabase: ScenarioDatabase<PgTestDatabase> = {
  open: () => createPgDatabase(),
  close: (db) => db.drop(),
};

/**
 * A PostgreSQL server of the scenario's own, stopped afterwards: for scenarios that restart it
 * (restarting the shared one would break the other suites' connections).
 */
export const ownPgServer: ScenarioDatabase<PostgresServer> = {
  open: () => startPostgres(),
  close: (server) => server.stop(),
};

/**
 * The state of one fault scenario registered by {@link useFaultScenario}: its database, its
 * temporary directory, and the cluster and table readers that tear-down closes.
 */
export class FaultScenario<D> {
  private release: (() => void) | undefined;
  private opened: { database: D } | undefined;
  private madeDir: string | undefined;
  private cluster: FaultCluster | undefined;
  private readonly tables: CommandTable[] = [];

  constructor(
    private readonly name: string,
    private readonly source: ScenarioDatabase<D> | undefined,
  ) {}

  /** The scenario's database (`undefined` for a scenario without one). @throws Error before set-up. */
  get database(): D {
    if (!this.opened) throw this.notSetUp();
    return this.opened.database;
  }

  /** The scenario's temporary directory (journals, logs, SQLite file). @throws Error before set-up. */
  get dir(): string {
    if (this.madeDir === undefined) throw this.notSetUp();
    return this.madeDir;
  }

  /**
   * Creates the scenario's cluster on `database` and its schema (`FaultCluster.setup()`); tear-down
   * stops every process it starts.
   */
  async startCluster(database: FaultDatabase): Promise<FaultCluster> {
    this.cluster = new FaultCluster(database, this.dir);
    await this.cluster.setup();
    return this.cluster;
  }

  /** Registers a table reader for tear-down to close; returns it. */
  track<T extends CommandTable>(table: T): T {
    this.tables.push(table);
    return table;
  }

  /** Takes the fault lock, builds the library, opens the database and makes the directory. */
  async setUp(): Promise<void> {
    this.release = await acquireFaultLock();
    await buildLibrary();
    this.opened = { database: (await this.source?.open()) as D };
    this.madeDir = scenarioDir(this.name);
  }

  /**
   * Stops the processes, closes the table readers and the database, removes the directory and
   * releases the lock, whatever part of the set-up ran.
   */
  async tearDown(): Promise<void> {
    try {
      await this.cluster?.stopAll();
      for (const table of this.tables) await table.close();
      if (this.opened && this.source) await this.source.close(this.opened.database);
    } finally {
      removeScenarioDir(this.madeDir);
      this.release?.();
    }
  }

  private notSetUp(): Error {
    return new Error(`the fault scenario ${this.name} is not set up`);
  }
}

/**
 * Registers, in the calling `describe`, the set-up and tear-down every fault scenario shares: the
 * machine-wide fault lock (scenarios run one at a time), a library build when `dist/` is stale, the
 * database `database` opens (none by default, e.g. for a SQLite file in the directory), and a
 * temporary directory named after `name` (kept when `FAULT_KEEP_LOGS` is set).
 *
 * @returns the scenario, usable inside the tests.
 */
export function useFaultScenario<D = undefined>(
  name: string,
  database?: ScenarioDatabase<D>,
): FaultScenario<D> {
  const scenario = new FaultScenario<D>(name, database);
  beforeAll(() => scenario.setUp(), 300_000);
  afterAll(() => scenario.tearDown(), 60_000);
  return scenario;
}
