import { describe, expect, it } from 'vitest';
import { faultBackends } from './support/backends.js';
import { finalState, RunJournal } from './support/inspect.js';
import { until } from './support/processes.js';
import { useFaultScenario } from './support/scenario.js';

const COMMANDS = 10_000;
const WORKERS = 4;

for (const backend of faultBackends) {
  describe.skipIf(!backend.available())(
    `many worker processes on one ${backend.name} database`,
    () => {
      const scenario = useFaultScenario(`many-${backend.name}`, backend.shared);

      it(`runs ${COMMANDS} commands exactly once across ${WORKERS} processes`, async () => {
        const cluster = await scenario.startCluster(scenario.database.database);
        const table = scenario.track(scenario.database.table());
        const workers = await Promise.all(
          Array.from({ length: WORKERS }, (_, i) =>
            cluster.startWorker(`w${i + 1}`, { pollMs: 200 }),
          ),
        );

        const started = Date.now();
        const schedulingMs = await cluster.schedule(COMMANDS);
        await until(
          `${COMMANDS} completed commands`,
          async () => ((await table.statusCounts()).completed ?? 0) === COMMANDS,
          90_000,
          () => cluster.assertNoCrash(),
        );
        const elapsed = Date.now() - started;
        // Graceful stops write every outcome and close the journals.
        await cluster.stopAll();

        const journal = new RunJournal(scenario.dir);
        const state = await finalState(table, journal);
        const duplicates = journal.duplicates();
        console.log(
          `[fault] many-workers (${backend.name}): ${COMMANDS} commands, ${WORKERS} worker processes; runs ${journal.total}, ` +
            `duplicates ${duplicates.length}, missing ${state.missing.length}; ` +
            `elapsed ${elapsed} ms (${Math.round((COMMANDS * 1000) / elapsed)} commands/s, scheduling ` +
            `${schedulingMs} ms); statuses ${JSON.stringify(state.counts)}; ` +
            `per worker: ${journal.describePerWorker()}`,
        );
        for (const w of workers) {
          const problems = w.problemLines();
          if (problems.length > 0) {
            console.log(
              `[fault] ${w.name} logged ${problems.length} problem line(s), first: ${problems[0]}`,
            );
          }
        }

        expect(state.rows).toBe(COMMANDS);
        expect(state.counts).toEqual({ completed: COMMANDS });
        expect(state.missing).toEqual([]);
        expect(state.unknown).toEqual([]);
        expect(duplicates).toEqual([]);
        expect(journal.total).toBe(COMMANDS);
        expect(journal.seqs().size).toBe(COMMANDS);
        for (const w of workers) expect(journal.perWorker.get(w.name), w.name).toBeGreaterThan(0);
      }, 120_000);
    },
  );
}
