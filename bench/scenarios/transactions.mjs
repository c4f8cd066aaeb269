/**
 * Scenario 11 — transactions (ours only; the peers have no TypeORM transaction to join):
 *
 * a. Cost: a `dataSource.transaction` that inserts a row and schedules a command with `manager`,
 *    against the same transaction inserting the row alone (alternating, no worker running).
 * b. Start latency after commit: one such transaction at a time; commit → handler start, from
 *    another process (PostgreSQL) and from the worker's own process.
 * c. Throughput: the no-op handler returning through `context.transaction()` against the plain one.
 */
import { measureThroughput } from '../lib/measure.mjs';
import { sleep } from '../lib/processes.mjs';
import {
  cpuPerJob,
  fmt,
  percentile,
  printTable,
  ratio,
  runRates,
  summary,
} from '../lib/report.mjs';
import { freshStore, SYSTEMS, workerProcess } from '../lib/systems.mjs';

const LATENCY_SEQ = 5_000_000;
const MODES = { 'ours-pg': ['other process', 'same process'], 'ours-sqlite': ['same process'] };

async function commitLatency(scheduler, worker, { samples, seqBase, warmup = 5 }) {
  const values = [];
  for (let i = 0; i < samples + warmup; i++) {
    await sleep(5 + Math.random() * 45);
    const seq = seqBase + i;
    const started = worker.waitFor((m) => m?.event === 'start' && m.seq === seq, 10_000);
    const { sentAt, committedAt } = await scheduler.request('scheduleInTransaction', { seq });
    const event = await started;
    if (i >= warmup) values.push(sentAt + event.latency - committedAt);
  }
  return summary(values);
}

/** p50 and p99 of `values` to 0.01 ms (the summary's 0.1 ms is too coarse for sub-ms transactions). */
const fine = (values) => {
  const r = (p) => Math.round(percentile(values, p) * 100) / 100;
  return { p50: r(50), p99: r(99) };
};

async function costAndLatency(system, ctx) {
  const store = await freshStore(system, ctx.serverUrl, 'tx');
  let worker;
  try {
    const cost = await store.client.request('transactionCost', { count: ctx.quick ? 300 : 1_000 });
    worker = workerProcess(system, store.url, { role: 'both', env: { BENCH_REPORT_STARTS: '1' } });
    await worker.waitFor('ready', 120_000);
    await sleep(500);
    const latency = {};
    for (const [i, mode] of MODES[system.id].entries()) {
      latency[mode] = await commitLatency(mode === 'same process' ? worker : store.client, worker, {
        samples: ctx.quick ? 50 : 200,
        seqBase: LATENCY_SEQ + i * 100_000,
      });
    }
    return {
      cost: {
        plain: fine(cost.plain),
        withSchedule: fine(cost.withSchedule),
        n: cost.plain.length,
      },
      latency,
    };
  } finally {
    await worker?.stop();
    await store.close();
  }
}

/** @param {object} ctx `{ serverUrl, quick }` */
export async function transactions(ctx) {
  const count = ctx.quick ? 10_000 : 20_000;
  const runs = ctx.quick ? 1 : 3;
  const results = [];
  for (const id of ['ours-pg', 'ours-sqlite']) {
    const system = SYSTEMS[id];
    process.stderr.write(`  transactions: ${system.label}: cost and latency\n`);
    const { cost, latency } = await costAndLatency(system, ctx);
    const throughput = {};
    for (const [handler, env] of [
      ['plain', {}],
      ['context.transaction()', { BENCH_TX_HANDLER: '1' }],
    ]) {
      process.stderr.write(
        `  transactions: ${system.label}: ${handler} handler, ${count} jobs × ${runs}\n`,
      );
      throughput[handler] = await measureThroughput(system, ctx.serverUrl, {
        label: 'txtp',
        count,
        runs,
        workerEnv: env,
        warm: true,
      });
    }
    results.push({ system: id, label: system.label, cost, latency, throughput });
  }

  const costTable = printTable(
    '11a. Scheduling inside a transaction: per-transaction time, ms (insert a row, with and without `schedule(cmd, { manager })`)',
    [
      { title: 'system', align: 'left' },
      { title: 'transactions' },
      { title: 'insert alone p50' },
      { title: 'insert + schedule p50' },
      { title: 'added p50' },
      { title: 'insert alone p99' },
      { title: 'insert + schedule p99' },
    ],
    results.map(({ label, cost }) => [
      label,
      fmt(cost.n),
      fmt(cost.plain.p50, 2),
      fmt(cost.withSchedule.p50, 2),
      fmt(Math.round((cost.withSchedule.p50 - cost.plain.p50) * 100) / 100, 2),
      fmt(cost.plain.p99, 2),
      fmt(cost.withSchedule.p99, 2),
    ]),
    [
      '`dataSource.transaction(m => insert)` against `dataSource.transaction(m => { insert; schedule(cmd, { manager: m }) })`, alternating, one at a time from a process without a worker; the command is due now.',
    ],
  );
  const latencyRows = results.flatMap(({ label, latency }) =>
    Object.entries(latency).map(([mode, s]) => [
      label,
      mode,
      s.n,
      fmt(s.p50),
      fmt(s.p99),
      fmt(s.max),
    ]),
  );
  const latencyTable = printTable(
    '11b. Start latency after commit (commit → handler start, ms)',
    [
      { title: 'system', align: 'left' },
      { title: 'committed from', align: 'left' },
      { title: 'samples' },
      { title: 'p50' },
      { title: 'p99' },
      { title: 'max' },
    ],
    latencyRows,
    [
      'One transaction at a time (insert a row, schedule a command due now with `manager`), after a random pause of 5–50 ms; the commit time is taken when `dataSource.transaction()` resolves. SQLite has no cross-process notification: same process only.',
    ],
  );
  const tpRows = results.flatMap(({ label, system, throughput }) =>
    Object.entries(throughput).map(([handler, r]) => [
      label,
      handler,
      fmt(r.median.perSecond),
      ratio(r.median.perSecond, throughput.plain.median.perSecond),
      runRates(r.runs),
      system === 'ours-pg'
        ? `${r.median.workerCpuUsPerJob} + ${r.median.databaseCpuUsPerJob}`
        : '—',
      fmt(r.warm.median.perSecond),
      ratio(r.warm.median.perSecond, throughput.plain.warm.median.perSecond),
      cpuPerJob(r.warm.median),
    ]),
  );
  const throughputTable = printTable(
    `11c. Throughput with \`context.transaction()\` handlers: ${fmt(count)} no-op jobs due now, 1 worker process (median of ${runs} run${runs > 1 ? 's' : ''})`,
    [
      { title: 'system', align: 'left' },
      { title: 'handler', align: 'left' },
      { title: 'jobs/s' },
      { title: 'vs plain' },
      { title: 'all runs (jobs/s)', align: 'left' },
      { title: 'CPU µs/job: worker + database' },
      { title: 'warm: jobs/s' },
      { title: 'vs plain' },
      { title: 'CPU µs/job' },
    ],
    tpRows,
    [
      "Measured as scenario 1 (same configuration, start gate, warm round). `context.transaction()`: the handler returns `getScheduledCommandContext(command).transaction(async () => seq)`, whose work writes nothing: each job's completion becomes its own transaction instead of a batched completion, which is the cost shown.",
    ],
  );
  return {
    name: 'transactions',
    count,
    runs,
    results,
    table: [costTable, latencyTable, throughputTable].join('\n'),
  };
}
