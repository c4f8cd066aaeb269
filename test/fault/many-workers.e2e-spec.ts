import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, pgAvailable, type PgTestDatabase } from '../support/postgres.js';
import { acquireFaultLock, buildLibrary } from './support/build.js';
import { finalState, PgCommandTable, RunJournal } from './support/inspect.js';
import { FaultCluster, until, removeScenarioDir, scenarioDir } from './support/processes.js';

const COMMANDS = 10_000;
const WORKERS = 4;

describe.skipIf(!pgAvailable())('many worker processes on one PostgreSQL database', () => {
  let release: (() => void) | undefined;
  let db: PgTestDatabase | undefined;
  let table: PgCommandTable | undefined;
  let cluster: FaultCluster | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    release = await acquireFaultLock();
    await buildLibrary();
    db = await createPgDatabase();
    dir = scenarioDir('many');
  }, 300_000);

  afterAll(async () => {
    await cluster?.stopAll();
    await table?.close();
    await db?.drop();
    removeScenarioDir(dir);
    release?.();
  }, 60_000);

  it(`runs ${COMMANDS} commands exactly once across ${WORKERS} processes`, async () => {
    cluster = new FaultCluster({ kind: 'postgres', url: db!.url }, dir!);
    await cluster.setup();
    table = new PgCommandTable(db!.url);
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) => cluster!.startWorker(`w${i + 1}`, { pollMs: 200 })),
    );

    const started = Date.now();
    const schedulingMs = await cluster.schedule(COMMANDS);
    await until(
      `${COMMANDS} completed commands`,
      async () => ((await table!.statusCounts()).completed ?? 0) === COMMANDS,
      90_000,
      () => cluster!.assertNoCrash(),
    );
    const elapsed = Date.now() - started;
    // Graceful stops write every outcome and close the journals.
    await cluster.stopAll();

    const journal = new RunJournal(dir!);
    const state = await finalState(table, journal);
    const duplicates = journal.duplicates();
    console.log(
      `[fault] many-workers: ${COMMANDS} commands, ${WORKERS} worker processes; runs ${journal.total}, ` +
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
});
