import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import type { FaultCluster, FaultProcess } from './processes.js';

/** One occurrence row of the schedule `fault-recurring`, read with SQL written here. */
export interface OccurrenceRow {
  id: string;
  fireTime: number;
  createdAt: number;
  status: string;
}

const OCCURRENCES = `SELECT id, recurring_fire_time AS f, created_at AS c, status FROM scheduled_commands
  WHERE recurring_name = 'fault-recurring' AND recurring_fire_time IS NOT NULL ORDER BY recurring_fire_time`;
type Raw = { id: string; f: string | number; c: string | number; status: string };
const toRow = (r: Raw): OccurrenceRow => ({
  id: r.id,
  fireTime: Number(r.f),
  createdAt: Number(r.c),
  status: r.status,
});

/** Reads the occurrences on PostgreSQL or SQLite. */
export class OccurrenceReader {
  private readonly pool?: pg.Pool;
  private readonly db?: Database.Database;

  constructor(kind: 'postgres' | 'sqlite', url: string) {
    if (kind === 'postgres') this.pool = new pg.Pool({ connectionString: url, max: 1 });
    else this.db = new Database(url, { fileMustExist: true, timeout: 15_000 });
  }

  async rows(): Promise<OccurrenceRow[]> {
    if (this.pool) return (await this.pool.query<Raw>(OCCURRENCES)).rows.map(toRow);
    return (this.db!.prepare(OCCURRENCES).all() as Raw[]).map(toRow);
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.db?.close();
  }
}

/** A restart with a misfire policy. */
export interface RecurringRound {
  misfire: 'skip' | 'once' | 'all';
  maxCatchUp?: number;
}

export interface RecurringScenario {
  label: string;
  cluster: FaultCluster;
  reader: OccurrenceReader;
  workers: number;
  firstRunMs: number;
  downMs: number;
  roundRunMs: number;
  rounds: RecurringRound[];
}

/** A fire time whose occurrence was created more than this after it is a catch-up (see MISFIRE_GRACE). */
const LATE = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fire times missing between the first and the last of `times` (one per second expected). */
function gaps(times: number[]): number[] {
  const missing: number[] = [];
  for (let i = 1; i < times.length; i++) {
    for (let t = times[i - 1] + 1_000; t < times[i]; t += 1_000) missing.push(t);
  }
  return missing;
}

/**
 * `workers` processes run the schedule `fault-recurring` (`* * * * * *`) for `firstRunMs`: every
 * fire time must get exactly one occurrence, run exactly once, none missing. Then, per round, all of
 * them stop for `downMs` and restart with the round's misfire policy: the occurrences created late
 * (catch-ups) must be exactly as many as the policy says, and the schedule must go on every second.
 */
export async function runRecurringScenario(s: RecurringScenario): Promise<void> {
  const start = async (tag: string, options: object): Promise<FaultProcess[]> =>
    Promise.all(
      Array.from({ length: s.workers }, (_, i) =>
        s.cluster.startWorker(`${tag}w${i + 1}`, {
          pollMs: 200,
          recurring: JSON.stringify({ cron: '* * * * * *', ...options }),
        }),
      ),
    );
  const stop = (workers: FaultProcess[]) => Promise.all(workers.map((w) => w.stop()));

  let workers = await start('', { misfire: 'once' });
  await sleep(s.firstRunMs);
  await stop(workers);
  let rows = await s.reader.rows();
  const first = rows.map((r) => r.fireTime);
  const firstGaps = gaps(first);
  console.log(
    `[fault] ${s.label}: ${s.workers} processes, ${s.firstRunMs} ms of '* * * * * *': ` +
      `${first.length} fire times with an occurrence, ${new Set(first).size} distinct, ` +
      `${firstGaps.length} missing between the first and the last`,
  );
  expect(first.length).toBeGreaterThanOrEqual(Math.floor(s.firstRunMs / 1_000) - 3);
  expect(firstGaps).toEqual([]);

  for (const [index, round] of s.rounds.entries()) {
    const before = Math.max(...rows.map((r) => r.fireTime));
    await sleep(s.downMs);
    workers = await start(`r${index + 1}`, {
      misfire: round.misfire,
      maxCatchUp: round.maxCatchUp,
    });
    await sleep(s.roundRunMs);
    await stop(workers);
    rows = await s.reader.rows();
    const after = rows.filter((r) => r.fireTime > before);
    const late = after.filter((r) => r.createdAt - r.fireTime > LATE);
    const onTime = after.filter((r) => r.createdAt - r.fireTime <= LATE).map((r) => r.fireTime);
    const firstOnTime = Math.min(...onTime);
    // Fire times the instances skipped (and logged) because the previous occurrence was still
    // pending or running (overlap: false), e.g. right after the catch-ups.
    const skipped = new Set(
      workers
        .flatMap((w) => w.lines)
        .map((line) => /skipped the fire time (\S+) because/.exec(line)?.[1])
        .filter((iso): iso is string => iso !== undefined)
        .map((iso) => Date.parse(iso)),
    );
    const gap: number[] = [];
    for (let t = before + 1_000; t < firstOnTime; t += 1_000) gap.push(t);
    const lateTimes = late.map((r) => r.fireTime);
    // What the downtime missed: the gap, less the fire times skipped for overlap after the restart.
    const missed = gap.filter((t) => !skipped.has(t) || lateTimes.includes(t));
    const max =
      round.misfire === 'skip' ? 0 : round.misfire === 'once' ? 1 : (round.maxCatchUp ?? 100);
    console.log(
      `[fault] ${s.label}: restart ${index + 1} after ${s.downMs} ms down, misfire ` +
        `'${round.misfire}'${round.maxCatchUp ? ` (maxCatchUp ${round.maxCatchUp})` : ''}: ` +
        `${missed.length} fire times missed, ${late.length} run as catch-up ` +
        `(expected ${Math.min(max, missed.length)}), ${gap.length - missed.length} skipped for ` +
        `overlap, then ${onTime.length} on time, ${gaps(onTime).length} missing`,
    );
    expect(late.length).toBe(Math.min(max, missed.length));
    // The catch-ups are the latest missed fire times, in order; whatever follows them in the gap
    // was skipped for overlap.
    expect(lateTimes).toEqual(missed.slice(missed.length - late.length));
    if (late.length > 0) {
      const afterCatchUp = gap.filter((t) => t > lateTimes[late.length - 1]);
      expect(afterCatchUp.filter((t) => !skipped.has(t))).toEqual([]);
    }
    expect(onTime.length).toBeGreaterThan(0);
    expect(gaps(onTime)).toEqual([]);
  }

  // Every occurrence that ran, ran once (the handlers' journals), and none failed.
  const runs = new Map<string, number>();
  for (const file of readdirSync(s.cluster.dir).filter((f) => f.endsWith('.recurring'))) {
    const path = join(s.cluster.dir, file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [tag, id] = line.split(' ');
      if (tag === 'R') runs.set(id, (runs.get(id) ?? 0) + 1);
    }
  }
  const completed = rows.filter((r) => r.status === 'completed');
  const twice = [...runs].filter(([, n]) => n > 1);
  console.log(
    `[fault] ${s.label}: ${rows.length} occurrences in all, ${completed.length} completed, ` +
      `${runs.size} run, ${twice.length} run twice; statuses ${JSON.stringify(
        rows.reduce<Record<string, number>>(
          (c, r) => ({ ...c, [r.status]: (c[r.status] ?? 0) + 1 }),
          {},
        ),
      )}`,
  );
  expect(twice).toEqual([]);
  expect(new Set(rows.map((r) => r.fireTime)).size).toBe(rows.length);
  for (const row of completed) expect(runs.get(row.id), row.id).toBe(1);
  expect(rows.filter((r) => r.status !== 'completed' && r.status !== 'pending')).toEqual([]);
}
