import { describe, it } from 'vitest';
import { pgAvailable } from '../support/postgres.js';
import { PgCommandTable } from './support/inspect.js';
import { runKillScenario } from './support/kill-scenario.js';
import { until } from './support/processes.js';
import { sharedPgDatabase, useFaultScenario } from './support/scenario.js';

describe.skipIf(!pgAvailable())(
  'a worker process killed in the middle of a batch (PostgreSQL)',
  () => {
    const scenario = useFaultScenario('kill', sharedPgDatabase);

    it('completes every command; only the commands the killed process had in flight run twice', async () => {
      const { url } = scenario.database;
      const cluster = await scenario.startCluster({ kind: 'postgres', url });
      const table = scenario.track(new PgCommandTable(url));
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
            async () => (await table.connectionsOf(victim)) === 0,
            15_000,
          ),
      });
    }, 120_000);
  },
);
