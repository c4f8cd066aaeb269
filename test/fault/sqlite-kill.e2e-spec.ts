import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { acquireFaultLock, buildLibrary } from './support/build.js';
import { SqliteCommandTable } from './support/inspect.js';
import { runKillScenario } from './support/kill-scenario.js';
import { FaultCluster, removeScenarioDir, scenarioDir } from './support/processes.js';

describe('a worker process killed in the middle of a batch (two processes on one SQLite file)', () => {
  let release: (() => void) | undefined;
  let table: SqliteCommandTable | undefined;
  let cluster: FaultCluster | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    release = await acquireFaultLock();
    await buildLibrary();
    dir = scenarioDir('sqlite-kill');
  }, 300_000);

  afterAll(async () => {
    await cluster?.stopAll();
    await table?.close();
    removeScenarioDir(dir);
    release?.();
  }, 60_000);

  it('completes every command; only the commands the killed process had in flight run twice', async () => {
    const file = join(dir!, 'app.sqlite');
    cluster = new FaultCluster({ kind: 'sqlite', url: file }, dir!);
    await cluster.setup();
    table = new SqliteCommandTable(file);
    // SQLite statements are synchronous in the process that runs them: once it is dead, nothing of
    // it can still commit, so no settling is needed before reading what it left behind.
    await runKillScenario({
      label: 'kill (SQLite)',
      cluster,
      table,
      commands: 2_000,
      worker: { concurrency: 10, leaseMs: 2_000, pollMs: 200, handlerMs: 10 },
      killAfterRuns: 200,
    });
  }, 120_000);
});
