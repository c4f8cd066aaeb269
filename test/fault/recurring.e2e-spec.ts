import { join } from 'node:path';
import { describe, it } from 'vitest';
import { pgAvailable } from '../support/postgres.js';
import { OccurrenceReader, runRecurringScenario } from './support/recurring-scenario.js';
import { sharedPgDatabase, useFaultScenario } from './support/scenario.js';

describe.skipIf(!pgAvailable())(
  'a recurring schedule on three worker processes sharing PostgreSQL',
  () => {
    const scenario = useFaultScenario('recurring-pg', sharedPgDatabase);

    it('creates and runs every fire time exactly once, and catches up per misfire policy after a full stop', async () => {
      const { url } = scenario.database;
      const cluster = await scenario.startCluster({ kind: 'postgres', url });
      const reader = new OccurrenceReader('postgres', url);
      try {
        await runRecurringScenario({
          label: 'recurring (PostgreSQL)',
          cluster,
          reader,
          workers: 3,
          firstRunMs: 10_000,
          downMs: 4_000,
          roundRunMs: 3_000,
          rounds: [{ misfire: 'once' }, { misfire: 'skip' }, { misfire: 'all', maxCatchUp: 3 }],
        });
      } finally {
        await reader.close();
      }
    }, 180_000);
  },
);

describe('a recurring schedule on two worker processes sharing one SQLite file', () => {
  const scenario = useFaultScenario('recurring-sqlite');

  it('creates and runs every fire time exactly once, and catches up per misfire policy after a full stop', async () => {
    const file = join(scenario.dir, 'app.sqlite');
    const cluster = await scenario.startCluster({ kind: 'sqlite', url: file });
    const reader = new OccurrenceReader('sqlite', file);
    try {
      await runRecurringScenario({
        label: 'recurring (SQLite)',
        cluster,
        reader,
        workers: 2,
        firstRunMs: 10_000,
        downMs: 4_000,
        roundRunMs: 3_000,
        rounds: [{ misfire: 'once' }, { misfire: 'all', maxCatchUp: 3 }],
      });
    } finally {
      await reader.close();
    }
  }, 180_000);
});
