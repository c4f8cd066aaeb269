/**
 * Scenario 8 — soak: ten minutes at a steady rate, with retention purging as it goes. A client
 * process schedules `rate` commands per second, due now, one worker process (PostgreSQL, ours)
 * runs them, and completed entries are kept `retention` ms (module option `retention.completed`,
 * purged every `maintenanceInterval`). Every `sampleEvery` ms the runner records the table's and
 * indexes' sizes, the live and dead row versions and what autovacuum did: once retention is
 * purging, the sizes should stay flat.
 *
 * `BENCH_SOAK_SECONDS` and `BENCH_SOAK_RATE` set another duration and rate (to try the scenario
 * quickly).
 */
import { withClient } from '../lib/db.mjs';
import { round } from '../lib/measure.mjs';
import { now, sleep } from '../lib/processes.mjs';
import { fmt, printTable } from '../lib/report.mjs';
import { freshStore, SYSTEMS, workerProcess } from '../lib/systems.mjs';
import { mb, tableStats } from '../lib/table-stats.mjs';

/** Commands due now and not finished: read through the claim and lease indexes. */
const BACKLOG_SQL = `SELECT (SELECT count(*) FROM scheduled_commands WHERE status = 'processing')
    + (SELECT count(*) FROM scheduled_commands WHERE status = 'pending' AND priority = 0
       AND scheduled_for <= FLOOR(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint) AS n`;

/** @param {object} ctx `{ serverUrl }` */
export async function soak(ctx) {
  const seconds = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
  const rate = Number(process.env.BENCH_SOAK_RATE ?? 500);
  // A sixth of the run: the table fills for that long, then purging keeps it level.
  const retention = Math.max(10_000, Math.round((seconds * 1000) / 6));
  const maintenanceInterval = Math.max(2_000, Math.round(retention / 6));
  const sampleEvery = Math.max(5_000, Math.round((seconds * 1000) / 20));
  const system = SYSTEMS['ours-pg'];
  const store = await freshStore(system, ctx.serverUrl, 'soak');
  const worker = workerProcess(system, store.url, {
    name: 'ours-pg soak worker',
    env: {
      BENCH_RETENTION_MS: String(retention),
      BENCH_MAINTENANCE_MS: String(maintenanceInterval),
    },
  });
  const samples = [];
  try {
    await worker.waitFor('ready', 120_000);
    process.stderr.write(
      `  soak: ${fmt(rate)} commands/s for ${seconds} s, retention ${retention / 1000} s, purge every ${maintenanceInterval / 1000} s\n`,
    );
    await withClient(store.url, async (c) => {
      const t0 = now();
      const sample = async () => {
        const s = await tableStats(c, system.table);
        const backlog = Number((await c.query(BACKLOG_SQL)).rows[0].n);
        const handled = await worker.request('handled');
        samples.push({ atS: round((now() - t0) / 1000, 0), handled, backlog, ...s });
      };
      await sample();
      const scheduling = store.client.request(
        'scheduleAtRate',
        { rate, seconds },
        seconds * 1000 + 120_000,
      );
      let done = false;
      scheduling.finally(() => {
        done = true;
      });
      while (!done) {
        const next = t0 + samples.length * sampleEvery;
        while (!done && now() < next) await sleep(Math.min(250, next - now()));
        if (!done) await sample();
      }
      await scheduling;
      if (samples.at(-1).atS !== round((now() - t0) / 1000, 0)) await sample();
    });
  } finally {
    await worker.stop();
    await store.close();
  }
  // Level over the second half of the run, and never before the table has held a full retention
  // period of rows and the purge has had two passes at it (the indexes settle later than the table).
  const settled = Math.max(retention + 2 * maintenanceInterval, (seconds * 1000) / 2);
  const steadyFrom = samples.find((s) => s.atS * 1000 >= settled);
  const last = samples.at(-1);
  const growth = (key) =>
    steadyFrom && steadyFrom[key] > 0 ? round((last[key] / steadyFrom[key] - 1) * 100, 1) : null;
  const table = printTable(
    `8. Soak: ${fmt(rate)} commands/s for ${fmt(seconds)} s, completed entries kept ${fmt(retention / 1000)} s (1 worker process, PostgreSQL)`,
    [
      { title: 's' },
      { title: 'handled' },
      { title: 'due, unfinished' },
      { title: 'live rows' },
      { title: 'dead rows' },
      { title: 'table MB' },
      { title: 'indexes MB' },
      { title: 'updates (HOT)' },
      { title: 'deletes' },
      { title: 'autovacuums' },
      { title: 'last autovacuum', align: 'left' },
    ],
    samples.map((s) => [
      s.atS,
      fmt(s.handled),
      fmt(s.backlog),
      fmt(s.liveTuples),
      fmt(s.deadTuples),
      mb(s.tableBytes),
      mb(s.indexesBytes),
      `${fmt(s.updated)} (${fmt(s.hotUpdated)})`,
      fmt(s.deleted),
      s.autovacuumCount,
      s.lastAutovacuum ? s.lastAutovacuum.slice(11, 19) : '—',
    ]),
    [
      `Configuration: ${system.config}; retention.completed ${fmt(retention)} ms, maintenanceInterval ${fmt(maintenanceInterval)} ms (the purge deletes at most 20 batches of 500 per status and pass). The client schedules with scheduleMany every 100 ms.`,
      steadyFrom
        ? `From ${steadyFrom.atS} s (the second half of the run, after retention plus two purge passes) to the end: table ${mb(steadyFrom.tableBytes)} → ${mb(last.tableBytes)} MB (${growth('tableBytes')} %), indexes ${mb(steadyFrom.indexesBytes)} → ${mb(last.indexesBytes)} MB (${growth('indexesBytes')} %).`
        : 'No sample in the second half of the run: no steady state to compare.',
      `Per index at the end: ${Object.entries(last.indexBytes)
        .map(([name, bytes]) => `${name} ${mb(bytes)} MB`)
        .join(', ')}.`,
    ],
  );
  return {
    name: 'soak',
    rate,
    seconds,
    retention,
    maintenanceInterval,
    samples,
    growth: { tableBytes: growth('tableBytes'), indexesBytes: growth('indexesBytes') },
    table,
  };
}
