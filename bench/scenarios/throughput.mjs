/**
 * Scenario 1 — throughput: `count` no-op jobs due now, inserted in bulk before the workers start;
 * time until every one is completed, with one worker process and with four. Then a second, warm
 * round of `count` jobs on the same worker processes (see `warmRound` in `lib/measure.mjs`).
 */
import path from 'node:path';
import { measureThroughput, WARM_GATE_HOLD_MS } from '../lib/measure.mjs';
import { cpuPerJob, fmt, printTable, ratio, RESULTS_DIR, runRates } from '../lib/report.mjs';
import { PGBOSS, SYSTEMS } from '../lib/systems.mjs';

/** @param {object} ctx `{ serverUrl, quick, profile }` */
export async function throughput(ctx) {
  const count = ctx.quick ? 10_000 : 20_000;
  // BENCH_THROUGHPUT_RUNS: more runs per median (the targets are medians of 5).
  const runs = ctx.quick ? 1 : Number(process.env.BENCH_THROUGHPUT_RUNS ?? 3);
  const processCounts = ctx.quick ? [1] : [1, 4];
  const plan = [];
  for (const processes of processCounts) {
    for (const id of ['ours-pg', 'pgboss', 'graphile', 'graphile-batched', 'ours-sqlite']) {
      plan.push({ system: SYSTEMS[id], processes });
    }
  }
  const rows = [];
  for (const { system, processes } of plan) {
    process.stderr.write(
      `  throughput: ${system.label}, ${processes} process(es), ${count} jobs × ${runs} run(s)\n`,
    );
    const profileDir = path.join(RESULTS_DIR, 'profiles');
    const nodeArgs =
      ctx.profile && system.ours && processes === 1
        ? () => [
            '--cpu-prof',
            `--cpu-prof-dir=${profileDir}`,
            `--cpu-prof-name=throughput-${system.id}-${Date.now()}.cpuprofile`,
          ]
        : undefined;
    const result = await measureThroughput(system, ctx.serverUrl, {
      label: `tp${processes}`,
      count,
      processes,
      runs,
      nodeArgs,
      warm: true,
    });
    rows.push({
      system: system.id,
      label: system.label,
      config: system.config,
      db: system.db,
      processes,
      ...result,
    });
  }

  const ours = (db, processes) =>
    rows.find(
      (r) =>
        r.system === (db === 'sqlite' ? 'ours-sqlite' : 'ours-pg') && r.processes === processes,
    );
  const base = (r) => ours('postgres', r.processes)?.median.perSecond;
  const warmBase = (r) => ours('postgres', r.processes)?.warm.median.perSecond;
  const table = printTable(
    `1. Throughput: ${fmt(count)} no-op jobs due now (median of ${runs} run${runs > 1 ? 's' : ''})`,
    [
      { title: 'system', align: 'left' },
      { title: 'database', align: 'left' },
      { title: 'processes' },
      { title: 'jobs/s' },
      { title: 'vs ours (PostgreSQL)' },
      { title: 'all runs (jobs/s)', align: 'left' },
      { title: 'CPU µs/job: worker + database' },
      { title: 'warm: jobs/s' },
      { title: 'vs ours (PostgreSQL)' },
      { title: 'all runs (jobs/s)', align: 'left' },
      { title: 'CPU µs/job' },
      { title: 'peak RSS MB' },
    ],
    rows.map((r) => [
      r.label,
      r.db === 'sqlite' ? 'SQLite' : 'PostgreSQL',
      r.processes,
      fmt(r.median.perSecond),
      ratio(r.median.perSecond, base(r)),
      runRates(r.runs),
      r.median.workerCpuUsPerJob === null
        ? '—'
        : `${r.median.workerCpuUsPerJob} + ${r.median.databaseCpuUsPerJob ?? '—'}`,
      fmt(r.warm.median.perSecond),
      ratio(r.warm.median.perSecond, warmBase(r)),
      runRates(r.warm.runs),
      cpuPerJob(r.warm.median),
      Math.max(...r.median.peakRssMb, ...r.warm.median.peakRssMb),
    ]),
    [
      'Configurations: ' +
        [...new Set(rows.map((r) => `${r.label}: ${r.config}`))].join('; ') +
        '.',
      `pg-boss with several processes: the same ${PGBOSS.workers} work() loops spread over them (one per process with 4 processes); 4 loops in each process (16 in all, each skipping the rows the others hold locked) ran several times slower on this machine.`,
      'The clock starts when the workers, already booted, may take jobs (PostgreSQL: a table lock is released; SQLite: first handler start) and stops when the database shows every job completed.',
      `Warm: right after the first round, the same worker processes run ${fmt(count)} more jobs, timed the same way: their code is compiled and optimised and their connections are open, as in a worker that has been running for a while. The jobs are written by SQL into each system's table (the rows its client writes) inside the start gate's transaction, which stays shut ${WARM_GATE_HOLD_MS / 1000} s so that every worker, polling or listening, waits on the table when it opens (SQLite: one write transaction; the clock starts at the first handler start).${processCounts.includes(4) ? ` With ${fmt(count / 4)} jobs per process, the first round of four processes is mostly start-up: the warm round shows the steady state.` : ''}`,
      'CPU µs/job: CPU time (user + system, from /proc) of the worker processes and of the PostgreSQL backends connected to the benchmark database, over the measured time, per job (median run). The machine has 2 cores: their sum bounds what one machine can do.',
    ],
  );
  return { name: 'throughput', count, runs, rows, table };
}
