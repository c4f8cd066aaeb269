/**
 * Scenario 12 — MariaDB: our store on MariaDB beside our store on PostgreSQL, in the same run, with
 * the same worker configuration (scenario 1's):
 *
 * - throughput of `count` no-op jobs due now with 1 and 4 worker processes, first and warm rounds
 *   (as scenario 1; MariaDB's start gate is `LOCK TABLES ... WRITE`);
 * - lateness of future jobs (as scenario 2) and due-now latency from another process (as scenario
 *   3): MariaDB has no `LISTEN/NOTIFY`, so a worker learns of a command another process scheduled
 *   at its next poll, or from the timer it set for the nearest due command it has seen;
 * - throughput with a backlog of future jobs against an empty table (as scenario 4).
 */
import { insertJobsMysql, withMysql } from '../lib/mysql.mjs';
import { compareTables, measureThroughput, round } from '../lib/measure.mjs';
import { sleep } from '../lib/processes.mjs';
import { cpuPerJob, fmt, printTable, ratio, runRates } from '../lib/report.mjs';
import { OURS, SYSTEMS, freshStore, workerProcess } from '../lib/systems.mjs';
import { insertBacklog } from './backlog.mjs';
import { dueNowLatency, futureJobs, LATENCY_SEQ } from './timing.mjs';

const DAY = 86_400_000;
const IDS = ['ours-pg', 'ours-mariadb'];

/** Our backlog on MariaDB: due one day from now, then one every 2 s; then `ANALYZE TABLE`. */
async function insertMysqlBacklog(url, count) {
  return withMysql(url, async (c) => {
    const t0 = performance.now();
    await insertJobsMysql(c, { count, firstDueMs: DAY, spacingMs: 2_000, startSeq: 10_000_000 });
    const insertMs = performance.now() - t0;
    await c.query('ANALYZE TABLE scheduled_commands');
    const [[row]] = await c.query(
      `SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables
       WHERE table_schema = DATABASE()`,
    );
    return {
      insertMs: Math.round(insertMs),
      vacuumMs: Math.round(performance.now() - t0 - insertMs),
      databaseSize: `${Math.round(Number(row.bytes) / 2 ** 20)} MB`,
    };
  });
}

/** Scenarios 2 and 3 (other process only) for `system`. */
async function timingOf(system, servers, { future, samples, gap }) {
  const store = await freshStore(system, servers, 'mtiming');
  let worker;
  try {
    worker = workerProcess(system, store.url, { role: 'both', env: { BENCH_REPORT_STARTS: '1' } });
    await worker.waitFor('ready', 120_000);
    await sleep(500);
    const lateness = await futureJobs(store, worker, future);
    const latency = await dueNowLatency(store.client, worker, {
      samples,
      gap,
      seqBase: LATENCY_SEQ,
    });
    return { lateness, latency };
  } finally {
    await worker?.stop();
    await store.close();
  }
}

/** @param {object} ctx `{ serverUrl, mysqlUrl, quick }` */
export async function mariadb(ctx) {
  const servers = { postgres: ctx.serverUrl, mariadb: ctx.mysqlUrl };
  const count = ctx.quick ? 10_000 : 20_000;
  const runs = ctx.quick ? 1 : 3;
  const processCounts = ctx.quick ? [1] : [1, 4];
  const backlogRows = ctx.quick ? 200_000 : 1_000_000;
  const future = { count: 300, leadMs: 1_500, windowMs: ctx.quick ? 2_000 : 3_000 };
  // A pause spread over the polling interval samples every phase of MariaDB's poll.
  const latencyPlan = { samples: ctx.quick ? 20 : 60, gap: [5, 5 + OURS.pollingInterval] };

  const throughput = [];
  for (const processes of processCounts) {
    for (const id of IDS) {
      const system = SYSTEMS[id];
      process.stderr.write(`  mariadb: throughput, ${system.label}, ${processes} process(es)\n`);
      const result = await measureThroughput(system, servers, {
        label: `mtp${processes}`,
        count,
        processes,
        runs,
        warm: true,
      });
      throughput.push({ system: id, label: system.label, processes, ...result });
    }
  }
  const timing = [];
  for (const id of IDS) {
    process.stderr.write(`  mariadb: timing, ${SYSTEMS[id].label}\n`);
    timing.push({
      system: id,
      label: SYSTEMS[id].label,
      ...(await timingOf(SYSTEMS[id], servers, { future, ...latencyPlan })),
    });
  }
  const backlog = [];
  for (const id of IDS) {
    const system = SYSTEMS[id];
    const { empty, full, fillResult } = await compareTables(system, servers, {
      label: 'mbacklog',
      count,
      runs,
      warm: !ctx.quick,
      fill: (store) => {
        process.stderr.write(`  mariadb: ${system.label}: inserting ${fmt(backlogRows)} jobs\n`);
        return system.db === 'mariadb'
          ? insertMysqlBacklog(store.url, backlogRows)
          : insertBacklog(system, store.url, backlogRows);
      },
    });
    backlog.push({
      system: id,
      label: system.label,
      inserted: fillResult,
      empty,
      backlog: full,
      slowdown: round(1 - full.median.perSecond / empty.median.perSecond, 4),
    });
  }

  const pgRow = (processes) =>
    throughput.find((r) => r.system === 'ours-pg' && r.processes === processes);
  const tables = [
    printTable(
      `12a. MariaDB: throughput, ${fmt(count)} no-op jobs due now (median of ${runs} run${runs > 1 ? 's' : ''})`,
      [
        { title: 'system', align: 'left' },
        { title: 'processes' },
        { title: 'jobs/s' },
        { title: 'vs PostgreSQL' },
        { title: 'all runs (jobs/s)', align: 'left' },
        { title: 'CPU µs/job: worker + database' },
        { title: 'warm: jobs/s' },
        { title: 'vs PostgreSQL' },
        { title: 'all runs (jobs/s)', align: 'left' },
        { title: 'CPU µs/job' },
      ],
      throughput.map((r) => [
        r.label,
        r.processes,
        fmt(r.median.perSecond),
        ratio(r.median.perSecond, pgRow(r.processes).median.perSecond),
        runRates(r.runs),
        cpuPerJob(r.median),
        fmt(r.warm.median.perSecond),
        ratio(r.warm.median.perSecond, pgRow(r.processes).warm.median.perSecond),
        runRates(r.warm.runs),
        cpuPerJob(r.warm.median),
      ]),
      [
        `Both: ${SYSTEMS['ours-mariadb'].config}; timed as in scenario 1 (MariaDB's start gate: LOCK TABLES scheduled_commands WRITE).`,
        'CPU µs/job, database: PostgreSQL, the backends connected to the benchmark database; MariaDB, the whole server process (one process, a thread per connection; it serves only the benchmark).',
      ],
    ),
    printTable(
      `12b. MariaDB: future jobs (${future.count} due over ${future.windowMs / 1000} s; lateness = handler start − due time) and due-now latency from another process (schedule call → handler start), ms`,
      [
        { title: 'system', align: 'left' },
        { title: 'future: p50 late' },
        { title: 'p99 late' },
        { title: 'max late' },
        { title: 'due now, other process: samples' },
        { title: 'p50' },
        { title: 'p99' },
        { title: 'max' },
      ],
      timing.map((r) => [
        r.label,
        fmt(r.lateness.p50),
        fmt(r.lateness.p99),
        fmt(r.lateness.max),
        r.latency.n,
        fmt(r.latency.p50),
        fmt(r.latency.p99),
        fmt(r.latency.max),
      ]),
      [
        `Future jobs are scheduled in bulk from another process ${future.leadMs / 1000} s before the first is due: the worker sees them at its next poll and sets its timer for each next due one. Due-now samples are one at a time, after a random pause of ${latencyPlan.gap[0]} to ${latencyPlan.gap[1]} ms (over the ${OURS.pollingInterval} ms polling interval); PostgreSQL wakes the worker with NOTIFY, MariaDB waits for its poll.`,
      ],
    ),
    printTable(
      `12c. MariaDB: throughput with ${fmt(backlogRows)} future jobs in the table against an empty table (${fmt(count)} jobs due now, 1 worker process, median of ${runs})`,
      [
        { title: 'system', align: 'left' },
        { title: 'empty: jobs/s' },
        { title: 'runs', align: 'left' },
        { title: 'backlog: jobs/s' },
        { title: 'runs', align: 'left' },
        { title: 'slowdown' },
        { title: 'backlog insert + analyze, s' },
        { title: 'database with backlog' },
      ],
      backlog.map((r) => [
        r.label,
        fmt(r.empty.median.perSecond),
        runRates(r.empty.runs),
        fmt(r.backlog.median.perSecond),
        runRates(r.backlog.runs),
        `${(r.slowdown * 100).toFixed(1)} %`,
        `${fmt(r.inserted.insertMs / 1000, 1)} + ${fmt(r.inserted.vacuumMs / 1000, 1)}`,
        r.inserted.databaseSize,
      ]),
      [
        'PostgreSQL: INSERT ... SELECT generate_series, then VACUUM ANALYZE (as scenario 4); MariaDB: multi-row INSERTs of 5,000 rows made by the runner, then ANALYZE TABLE. Empty-table and backlog runs alternate.',
      ],
    ),
  ];
  return {
    name: 'mariadb',
    count,
    runs,
    backlogRows,
    throughput,
    timing,
    backlog,
    table: tables.join('\n'),
  };
}
