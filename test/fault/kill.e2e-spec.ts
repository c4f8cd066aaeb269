import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPgDatabase, pgAvailable, type PgTestDatabase } from '../support/postgres.js';
import { acquireFaultLock, buildLibrary } from './support/build.js';
import { PgCommandTable } from './support/inspect.js';
import { runKillScenario } from './support/kill-scenario.js';
import { FaultCluster, until, removeScenarioDir, scenarioDir } from './support/processes.js';

describe.skipIf(!pgAvailable())(
  'a worker process killed in the middle of a batch (PostgreSQL)',
  () => {
    let release: (() => void) | undefined;
    let db: PgTestDatabase | undefined;
    let table: PgCommandTable | undefined;
    let cluster: FaultCluster | undefined;
    let dir: string | undefined;

    beforeAll(async () => {
      release = await acquireFaultLock();
      await buildLibrary();
      db = await createPgDatabase();
      dir = scenarioDir('kill');
    }, 300_000);

    afterAll(async () => {
      await cluster?.stopAll();
      await table?.close();
      await db?.drop();
      removeScenarioDir(dir);
      release?.();
    }, 60_000);

    it('completes every command; only the commands the killed process had in flight run twice', async () => {
      cluster = new FaultCluster({ kind: 'postgres', url: db!.url }, dir!);
      await cluster.setup();
      const pgTable = new PgCommandTable(db!.url);
      table = pgTable;
      await runKillScenario({
        label: 'kill (PostgreSQL)',
        cluster,
        table,
        commands: 3_000,
        worker: { concurrency: 10, leaseMs: 2_000, pollMs: 200, handlerMs: 10 },
        killAfterRuns: 300,
        // A statement the server was running for the killed process may still commit; once the
        // server has closed its connections, the table shows exactly what the process left behind.
        settled: (victim) =>
          until(
            `the server to close the connections of ${victim}`,
            async () => (await pgTable.connectionsOf(victim)) === 0,
            15_000,
          ),
      });
    }, 120_000);
  },
);
