/**
 * Scenarios 2, 3 and 6, run together for each system (one fresh store, one client process that
 * schedules, one worker process that also schedules for the same-process case):
 *
 * 2. Future jobs: 300 jobs due over a few seconds while the worker is idle and waiting; lateness
 *    of each is its handler start minus its due time.
 * 3. Due-now latency: one job at a time, scheduled after a random pause; latency is its handler
 *    start minus the moment just before the schedule call. From another process (the client) and,
 *    where the system offers an in-process path, from the worker's own process.
 * 6. Scheduling rate: with the worker stopped, jobs scheduled one call at a time and in bulk.
 */
import { sleep, now } from '../lib/processes.mjs';
import { fmt, printTable, ratio, renderTable, summary } from '../lib/report.mjs';
import { freshStore, SYSTEMS, workerProcess } from '../lib/systems.mjs';

const FUTURE_SEQ = 1_000_000;
/** First sequence number of the latency samples (one block of 100,000 per path). */
export const LATENCY_SEQ = 2_000_000;
const SEQUENTIAL_SEQ = 3_000_000;
const BULK_SEQ = 4_000_000;

/** Per system: latency modes measured and the random pause between latency samples (ms). */
const PLAN = {
  'ours-pg': { modes: ['other process', 'same process'], gap: [5, 50] },
  'ours-sqlite': { modes: ['same process'], gap: [5, 50] },
  // pg-boss polls (no wake-up on send), so a pause spread over its polling interval samples every phase.
  pgboss: { modes: ['other process'], gap: [5, 505], fewer: true },
  graphile: { modes: ['other process', 'same process'], gap: [5, 50] },
};

/**
 * Scenario 2 on `store`: `count` jobs due over `windowMs`, the first `leadMs` from now, scheduled
 * in bulk by the store's client; returns the lateness of their handler starts in `worker`.
 */
export async function futureJobs(store, worker, { count, leadMs, windowMs }) {
  await worker.request('clearSamples');
  const before = (await worker.request('stats')).handled;
  const start = Math.ceil(now() + leadMs);
  const times = Array.from({ length: count }, (_, i) => start + Math.round((i * windowMs) / count));
  const insertMs = await store.client.request('scheduleTimes', { times, startSeq: FUTURE_SEQ });
  const deadline = start + windowMs + 15_000;
  while ((await worker.request('stats')).handled < before + count) {
    if (now() > deadline)
      throw new Error(
        `future jobs: only ${(await worker.request('stats')).handled - before} of ${count} started`,
      );
    await sleep(100);
  }
  const samples = (await worker.request('samples')).filter(
    ([seq]) => seq >= FUTURE_SEQ && seq < FUTURE_SEQ + count,
  );
  return {
    insertMs,
    insertedBeforeFirstDue: insertMs < leadMs,
    ...summary(samples.map(([, late]) => late)),
  };
}

/**
 * Scenario 3: one job at a time scheduled by `scheduler` after a random pause within `gap` (ms);
 * returns the summary of schedule call → handler start in `worker`.
 */
export async function dueNowLatency(scheduler, worker, { samples, gap, seqBase, warmup = 5 }) {
  const values = [];
  for (let i = 0; i < samples + warmup; i++) {
    await sleep(gap[0] + Math.random() * (gap[1] - gap[0]));
    const seq = seqBase + i;
    const started = worker.waitFor((m) => m?.event === 'start' && m.seq === seq, 10_000);
    await scheduler.request('scheduleNow', { seq });
    const event = await started;
    if (i >= warmup) values.push(event.latency);
  }
  return summary(values);
}

/** @param {object} ctx `{ serverUrl, quick }` */
export async function timing(ctx) {
  const quick = ctx.quick;
  const future = { count: 300, leadMs: 1_500, windowMs: quick ? 2_000 : 3_000 };
  const latencySamples = (plan) => (plan.fewer ? (quick ? 15 : 60) : quick ? 60 : 200);
  const sequentialCount = quick ? 1_000 : 3_000;
  const bulkCount = 20_000;

  const results = [];
  for (const [id, plan] of Object.entries(PLAN)) {
    const system = SYSTEMS[id];
    process.stderr.write(`  timing: ${system.label}\n`);
    const store = await freshStore(system, ctx.serverUrl, 'timing');
    let worker;
    try {
      worker = workerProcess(system, store.url, {
        role: 'both',
        env: { BENCH_REPORT_STARTS: '1' },
      });
      await worker.waitFor('ready', 120_000);
      await sleep(500);
      const futureResult = await futureJobs(store, worker, future);
      const latency = {};
      for (const [i, mode] of plan.modes.entries()) {
        const scheduler = mode === 'same process' ? worker : store.client;
        latency[mode] = await dueNowLatency(scheduler, worker, {
          samples: latencySamples(plan),
          gap: plan.gap,
          seqBase: LATENCY_SEQ + i * 100_000,
        });
      }
      await worker.stop();
      const sequentialMs = await store.client.request('scheduleSequential', {
        count: sequentialCount,
        startSeq: SEQUENTIAL_SEQ,
      });
      const bulkMs = await store.client.request('scheduleBulk', {
        count: bulkCount,
        chunk: 1_000,
        startSeq: BULK_SEQ,
      });
      results.push({
        system: id,
        label: system.label,
        config: system.config,
        future: futureResult,
        latency,
        scheduling: {
          sequential: {
            count: sequentialCount,
            ms: Math.round(sequentialMs),
            perSecond: Math.round((sequentialCount / sequentialMs) * 1000),
          },
          bulk: {
            count: bulkCount,
            chunk: 1_000,
            ms: Math.round(bulkMs),
            perSecond: Math.round((bulkCount / bulkMs) * 1000),
          },
        },
      });
    } finally {
      await worker?.stop();
      await store.close();
    }
  }

  const oursPg = results.find((r) => r.system === 'ours-pg');
  const futureTable = printTable(
    `2. Future jobs: ${future.count} jobs due over ${future.windowMs / 1000} s, worker idle and waiting (lateness = handler start − due time, ms)`,
    [
      { title: 'system', align: 'left' },
      { title: 'p50 late' },
      { title: 'p99 late' },
      { title: 'max late' },
      { title: 'p99 vs ours (PostgreSQL)' },
    ],
    results.map((r) => [
      r.label,
      fmt(r.future.p50),
      fmt(r.future.p99),
      fmt(r.future.max),
      ratio(r.future.p99, oursPg.future.p99),
    ]),
    [
      `Scheduled in bulk from another process ${future.leadMs / 1000} s before the first due time. Each system's worker configuration is the one of scenario 1 (graphile-worker: default pollInterval 2 s; pg-boss: polling every 0.5 s, its minimum).`,
    ],
  );

  const latencyRows = [];
  for (const r of results) {
    for (const [mode, s] of Object.entries(r.latency))
      latencyRows.push({ label: r.label, mode, ...s });
  }
  const oursLatency = (mode) => oursPg.latency[mode]?.p50;
  const latencyTable = printTable(
    '3. Due-now latency, one job at a time (schedule call → handler start, ms)',
    [
      { title: 'system', align: 'left' },
      { title: 'scheduled from', align: 'left' },
      { title: 'samples' },
      { title: 'p50' },
      { title: 'p99' },
      { title: 'max' },
      { title: 'p50 vs ours (PostgreSQL, same path)' },
    ],
    latencyRows.map((r) => [
      r.label,
      r.mode,
      r.n,
      fmt(r.p50),
      fmt(r.p99),
      fmt(r.max),
      ratio(r.p50, oursLatency(r.mode)),
    ]),
    [
      '"other process": a client process schedules, the worker process runs (cross-instance wake-up). "same process": the worker\'s own application schedules. pg-boss has no wake-up on send (it polls), so only one path is shown, with fewer samples; SQLite has no cross-process notification, so only its same-process path is shown.',
    ],
  );

  // Printed by the runner after scenarios 4 and 5, in the order of the scenario numbers.
  const schedulingTable = renderTable(
    `6. Scheduling rate (commands/s; worker stopped)`,
    [
      { title: 'system', align: 'left' },
      { title: `one by one (${fmt(sequentialCount)} awaited calls)` },
      { title: 'vs ours (PostgreSQL)' },
      { title: `bulk (${fmt(bulkCount)} in calls of 1,000)` },
      { title: 'vs ours (PostgreSQL)' },
    ],
    results.map((r) => [
      r.label,
      fmt(r.scheduling.sequential.perSecond),
      ratio(r.scheduling.sequential.perSecond, oursPg.scheduling.sequential.perSecond),
      fmt(r.scheduling.bulk.perSecond),
      ratio(r.scheduling.bulk.perSecond, oursPg.scheduling.bulk.perSecond),
    ]),
    [
      'ours: `schedule()` and `scheduleMany()`; pg-boss: `send()` and `insert()`; graphile-worker: `addJob()` and `addJobs()` (WorkerUtils).',
    ],
  );

  return {
    future: {
      name: 'future',
      ...future,
      rows: results.map(({ system, label, config, future: f }) => ({
        system,
        label,
        config,
        ...f,
      })),
      table: futureTable,
    },
    latency: {
      name: 'latency',
      rows: latencyRows,
      raw: results.map(({ system, latency }) => ({ system, latency })),
      table: latencyTable,
    },
    scheduling: {
      name: 'scheduling',
      rows: results.map(({ system, label, scheduling }) => ({ system, label, ...scheduling })),
      table: schedulingTable,
    },
  };
}
