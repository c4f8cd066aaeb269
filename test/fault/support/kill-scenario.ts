import { expect } from 'vitest';
import { finalState, RunJournal, type CommandTable } from './inspect.js';
import { FaultCluster, until, type InstanceSettings } from './processes.js';

/** Settings of {@link runKillScenario}. */
export interface KillScenario {
  label: string;
  cluster: FaultCluster;
  table: CommandTable;
  commands: number;
  worker: InstanceSettings & { concurrency: number; leaseMs: number };
  /**
   * The victim SIGKILLs itself at the start of this handler (its n-th), so the kill always finds
   * commands claimed and not finished: at least that one, whose claim has committed.
   */
  killAfterRuns: number;
  /**
   * Resolves once the killed process can no longer change the database (on PostgreSQL: once the
   * server has closed its connections, so no statement of it can still commit).
   */
  settled?: (victim: string) => Promise<void>;
}

/**
 * Two workers run `commands` commands; one is SIGKILLed while it has commands in flight; a
 * replacement starts. Asserts that every command completes and that the only commands that ran twice
 * are the ones the killed process had claimed and not finished (as the database shows right after
 * the kill) and had started.
 */
export async function runKillScenario(s: KillScenario): Promise<void> {
  const { cluster, table } = s;
  const [victim, survivor] = await Promise.all([
    cluster.startWorker('victim', { ...s.worker, killAtRun: s.killAfterRuns }),
    cluster.startWorker('survivor', s.worker),
  ]);

  const started = Date.now();
  await cluster.schedule(s.commands);
  await victim.selfKilled(60_000);
  const killedAt = Date.now() - started;
  const lastReport = victim.stats;
  await s.settled?.(victim.name);

  const inFlight = new Set(await table.heldBy(victim.name));
  const atKill = await table.statusCounts();
  const replacement = await cluster.startWorker('replacement', s.worker);

  await until(
    `${s.commands} completed commands`,
    async () => ((await table.statusCounts()).completed ?? 0) === s.commands,
    90_000,
    () => cluster.assertNoCrash(),
  );
  const elapsed = Date.now() - started;
  await Promise.all([survivor.stop(), replacement.stop()]);

  const journal = new RunJournal(cluster.dir);
  const state = await finalState(table, journal);
  const duplicates = journal.duplicates();
  const startedByVictim = journal.startedBy(victim.name);
  const rerunExpected = [...inFlight].filter((id) => startedByVictim.has(id)).sort();
  const finishedUnwritten = rerunExpected.filter((id) =>
    journal.byId.get(id)!.some((r) => r.worker === victim.name && r.finished),
  ).length;
  const takeOvers = [survivor, replacement]
    .flatMap((p) => p.lines)
    .filter((line) => line.includes('was taken over after its lease ran out')).length;

  console.log(
    `[fault] ${s.label}: killed worker had ${inFlight.size} in flight ` +
      `(claimed and not finished in the database after the kill; ${rerunExpected.length} of them ` +
      `had started their handler, ${finishedUnwritten} had even returned but were not written yet; ` +
      `concurrency ${s.worker.concurrency}, last reported held ` +
      `${lastReport?.held ?? 'nothing'}); ${duplicates.length} commands ran twice`,
  );
  console.log(
    `[fault] ${s.label}: ${s.commands} commands, runs ${journal.total}, killed after ` +
      `${killedAt} ms with ${atKill.completed ?? 0} completed, all completed after ${elapsed} ms; ` +
      `lease take-overs logged ${takeOvers}; statuses ${JSON.stringify(state.counts)}; ` +
      `per worker: ${journal.describePerWorker()}`,
  );

  expect(inFlight.size, 'the kill must hit the victim while it holds commands').toBeGreaterThan(0);
  expect(state.rows).toBe(s.commands);
  expect(state.counts).toEqual({ completed: s.commands });
  expect(state.missing).toEqual([]);
  expect(state.unknown).toEqual([]);
  expect(journal.seqs().size).toBe(s.commands);
  expect(duplicates.length).toBeLessThanOrEqual(inFlight.size);
  for (const id of duplicates) expect(inFlight.has(id), `${id} ran twice`).toBe(true);
  // Exactly those: every command the victim started and did not get written is taken over and run again.
  expect(duplicates.sort()).toEqual(rerunExpected);
  for (const id of duplicates) expect(journal.byId.get(id)!.length, id).toBe(2);
}
