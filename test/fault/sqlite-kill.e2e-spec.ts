import { join } from 'node:path';
import { describe, it } from 'vitest';
import { SqliteCommandTable } from './support/inspect.js';
import { runKillScenario } from './support/kill-scenario.js';
import { useFaultScenario } from './support/scenario.js';

describe('a worker process killed in the middle of a batch (two processes on one SQLite file)', () => {
  const scenario = useFaultScenario('sqlite-kill');

  it('completes every command; only the commands the killed process had in flight run twice', async () => {
    const file = join(scenario.dir, 'app.sqlite');
    const cluster = await scenario.startCluster({ kind: 'sqlite', url: file });
    const table = scenario.track(new SqliteCommandTable(file));
    // SQLite statements are synchronous in the process that runs them: once it is dead, nothing of
    // it can still commit, so no settling is needed before reading what it left behind.
    await runKillScenario({
      label: 'kill (SQLite)',
      cluster,
      table,
      commands: 2_000,
      worker: { concurrency: 10, leaseMs: 2_000, pollMs: 200, handlerMs: 10 },
      killAfterRuns: 205,
    });
  }, 120_000);
});
