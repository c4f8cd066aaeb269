import { describe, expect, it } from 'vitest';
import { faultBackends } from './support/backends.js';
import { finalState, PgCommandTable, RunJournal } from './support/inspect.js';
import { until, type FaultProcess } from './support/processes.js';
import { useFaultScenario } from './support/scenario.js';

const COMMANDS = 3_000;
const WORKERS = 3;

for (const backend of faultBackends) {
  describe.skipIf(!backend.available())(
    `${backend.name} restarted under running worker processes`,
    () => {
      // Its own server: restarting the shared one would break the other suites' connections.
      const scenario = useFaultScenario(`restart-${backend.name}`, backend.own);
      const label = `restart (${backend.name})`;

      it(`workers back off, reconnect${backend.notifies ? ' (queries and LISTEN)' : ''} and finish every command`, async () => {
        const server = scenario.database;
        const cluster = await scenario.startCluster(server.database);
        const table = scenario.track(server.table());
        /** The instances' wake-up listeners (PostgreSQL); none where instances poll. */
        const listeners = async (): Promise<string[]> =>
          table instanceof PgCommandTable ? table.listeners() : [];
        // The lease is far longer than the outage: no command may be taken over, so none may run twice.
        const settings = { concurrency: 10, leaseMs: 15_000, pollMs: 200, handlerMs: 5 };
        const workers: FaultProcess[] = await Promise.all(
          Array.from({ length: WORKERS }, (_, i) => cluster.startWorker(`w${i + 1}`, settings)),
        );
        const names = backend.notifies ? workers.map((w) => w.name).sort() : [];
        await until(
          'every worker to LISTEN',
          async () => (await listeners()).join() === names.join(),
          15_000,
        );

        const started = Date.now();
        await cluster.schedule(COMMANDS);
        await until(
          'a quarter of the commands to complete',
          async () => ((await table.statusCounts()).completed ?? 0) >= COMMANDS / 4,
          60_000,
          () => cluster.assertNoCrash(),
          20,
        );
        const before = await table.statusCounts();
        const restartStarted = Date.now();
        await server.restart();
        const restartMs = Date.now() - restartStarted;

        await until(
          `${COMMANDS} completed commands after the restart`,
          async () => ((await table.statusCounts()).completed ?? 0) === COMMANDS,
          90_000,
          () => cluster.assertNoCrash(),
        );
        const elapsed = Date.now() - started;
        let listenersAfter: string[] = [];
        await until(
          'every worker to LISTEN again after the restart',
          async () => (listenersAfter = await listeners()).join() === names.join(),
          20_000,
          () => cluster.assertNoCrash(),
        ).catch((error: Error) => {
          throw new Error(`${error.message}; listening now: [${listenersAfter.join(', ')}]`);
        });
        await cluster.stopAll();

        const journal = new RunJournal(scenario.dir);
        const state = await finalState(table, journal);
        const duplicates = journal.duplicates();
        console.log(
          `[fault] ${label}: ${COMMANDS} commands, ${WORKERS} worker processes; restart after ` +
            `${before.completed ?? 0} completed took ${restartMs} ms; all completed after ${elapsed} ms; ` +
            `runs ${journal.total}, duplicates ${duplicates.length}, missing ${state.missing.length}; ` +
            `statuses ${JSON.stringify(state.counts)}; per worker: ${journal.describePerWorker()}`,
        );
        const writeRetries = new Map<string, { count: number; spanMs: number }>();
        for (const w of workers) {
          const problems = w.problems.filter((p) => p.at >= restartStarted);
          const kinds = new Map<string, number>();
          for (const { line } of problems) {
            const kind = line
              .replace(/^.*?\b(ERROR|WARN)\s+/, '$1 ')
              .replace(/ \(retrying in \d+ ms\)/, '')
              .replace(/:.*$/, '')
              .replace(/\d+/g, 'N');
            kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          }
          const writes = problems.filter((p) => /Writing \d+ completion\(s\) failed/.test(p.line));
          const spanMs = writes.length > 0 ? writes.at(-1)!.at - writes[0].at : 0;
          writeRetries.set(w.name, { count: writes.length, spanMs });
          console.log(
            `[fault] ${label}: ${w.name} logged ${problems.length} error/warning line(s) after the ` +
              `restart (${[...kinds].map(([k, n]) => `${n}x "${k}"`).join(', ')}); failed completion ` +
              `writes: ${writes.length} in ${spanMs} ms`,
          );
        }

        expect(state.rows).toBe(COMMANDS);
        expect(state.counts).toEqual({ completed: COMMANDS });
        expect(state.missing).toEqual([]);
        expect(state.unknown).toEqual([]);
        expect(journal.seqs().size).toBe(COMMANDS);
        expect(duplicates).toEqual([]);
        for (const w of workers) {
          // The restart really hit the workers: each noticed (and logged) its connections dropping.
          expect(w.problemLines(restartStarted).length, w.name).toBeGreaterThan(0);
          // Backing off: a failing completion write is retried after 100 ms, then 200, 400, ... so at
          // most once per 100 ms over the outage, plus one attempt per handler finishing meanwhile.
          const { count, spanMs } = writeRetries.get(w.name)!;
          expect(count, `${w.name}: failed completion writes in ${spanMs} ms`).toBeLessThanOrEqual(
            1 + Math.floor(spanMs / 100) + settings.concurrency,
          );
        }
      }, 120_000);
    },
  );
}
