import { describe, it } from 'vitest';
import { faultBackends } from './support/backends.js';
import { runKillScenario } from './support/kill-scenario.js';
import { until } from './support/processes.js';
import { useFaultScenario } from './support/scenario.js';

for (const backend of faultBackends) {
  describe.skipIf(!backend.available())(
    `a worker process killed in the middle of a batch (${backend.name})`,
    () => {
      const scenario = useFaultScenario(`kill-${backend.name}`, backend.shared);

      it('completes every command; only the commands the killed process had in flight run twice', async () => {
        const cluster = await scenario.startCluster(scenario.database.database);
        const table = scenario.track(scenario.database.table());
        await runKillScenario({
          label: `kill (${backend.name})`,
          cluster,
          table,
          commands: 3_000,
          worker: { concurrency: 10, leaseMs: 2_000, pollMs: 200, handlerMs: 10 },
          killAfterRuns: 305,
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
}
