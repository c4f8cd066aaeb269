/**
 * Scenario 10 — recurring lateness: how late the occurrences of a recurring schedule start after
 * their fire time, on PostgreSQL, with the worker idle between them.
 *
 * Ours: `scheduleRecurring(name, command, { cron: '* * * * * *' })` in the worker process, for a few
 * tens of seconds; lateness is the handler start minus the occurrence's `scheduledFor`. The peers'
 * cron has minute resolution, so they are measured over about two minutes (both at once, each on its
 * own database, mostly idle): pg-boss's `schedule()` with its default cron intervals, and
 * graphile-worker's crontab. Not part of `--quick` for the peers.
 */
import { sleep } from '../lib/processes.mjs';
import { fmt, printTable, summary } from '../lib/report.mjs';
import { freshStore, SYSTEMS, workerProcess } from '../lib/systems.mjs';

const NAME = 'bench-every-second';
/** How long the peers' fires are collected: two minute boundaries at least. */
const PEER_WINDOW_MS = 135_000;

async function ours(serverUrl, seconds) {
  const system = SYSTEMS['ours-pg'];
  process.stderr.write(`  recurring: ${system.label}, ${seconds} s\n`);
  const store = await freshStore(system, serverUrl, 'recurring');
  let worker;
  try {
    worker = workerProcess(system, store.url, { role: 'both' });
    await worker.waitFor('ready', 120_000);
    await sleep(500);
    await worker.request('startRecurring', { name: NAME, cron: '* * * * * *' });
    await sleep(seconds * 1000);
    return await worker.request('recurringLateness', { name: NAME });
  } finally {
    await worker?.stop();
    await store.close();
  }
}

async function peers(serverUrl) {
  const ids = ['pgboss', 'graphile'];
  process.stderr.write(
    `  recurring: pg-boss and graphile-worker together, ${PEER_WINDOW_MS / 1000} s\n`,
  );
  const stores = [];
  const workers = [];
  try {
    for (const id of ids) stores.push(await freshStore(SYSTEMS[id], serverUrl, 'recurring'));
    for (const [i, id] of ids.entries()) {
      workers.push(
        workerProcess(SYSTEMS[id], stores[i].url, { env: { BENCH_CRON: '1', BENCH_WORKERS: '1' } }),
      );
    }
    await Promise.all(workers.map((w) => w.waitFor('ready', 120_000)));
    await workers[0].request('startCron');
    await sleep(PEER_WINDOW_MS);
    return await Promise.all(workers.map((w) => w.request('cronLateness')));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    for (const store of stores) await store.close();
  }
}

/** @param {object} ctx `{ serverUrl, quick }` */
export async function recurring(ctx) {
  const seconds = ctx.quick ? 10 : 30;
  const rows = [
    {
      system: 'ours-pg',
      label: SYSTEMS['ours-pg'].label,
      schedule: "cron '* * * * * *' (every second)",
      ...summary(await ours(ctx.serverUrl, seconds)),
    },
  ];
  if (!ctx.quick) {
    const [pgboss, graphile] = await peers(ctx.serverUrl);
    rows.push(
      {
        system: 'pgboss',
        label: SYSTEMS.pgboss.label,
        schedule: "schedule() '* * * * *'",
        ...summary(pgboss),
      },
      {
        system: 'graphile',
        label: SYSTEMS.graphile.label,
        schedule: "crontab '* * * * *'",
        ...summary(graphile),
      },
    );
  }
  const table = printTable(
    '10. Recurring schedules: occurrence start after its fire time (handler start − fire time, ms), PostgreSQL',
    [
      { title: 'system', align: 'left' },
      { title: 'schedule', align: 'left' },
      { title: 'occurrences' },
      { title: 'p50 late' },
      { title: 'p99 late' },
      { title: 'max late' },
    ],
    rows.map((r) => [r.label, r.schedule, r.n, fmt(r.p50), fmt(r.p99), fmt(r.max)]),
    [
      `Ours: the schedule is created in the worker process and runs for ${seconds} s; fire time = the occurrence's \`scheduledFor\`. pg-boss and graphile-worker have minute resolution: their fires are collected over ${PEER_WINDOW_MS / 1000} s (both at once, each on its own database, both otherwise idle), so a handful of samples only${ctx.quick ? ' (not measured with --quick)' : ''}. pg-boss keeps no fire time: its lateness is the start minus the start of that minute; its schedules are checked every 30 s (cronMonitorIntervalSeconds, default) and the cron jobs pass through an internal queue polled every 5 s (cronWorkerIntervalSeconds, default), then the queue is worked every 0.5 s. graphile-worker: fire time = the job's \`_cron.ts\`.`,
    ],
  );
  return { name: 'recurring', seconds, peerWindowMs: PEER_WINDOW_MS, rows, table };
}
