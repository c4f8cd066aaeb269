/**
 * Scenario 4 — backlog scale: throughput (scenario 1, one worker process, PostgreSQL) with a large
 * backlog of future jobs already in the table, against an empty table; and the plan of our claim
 * statement in both cases. Ours, pg-boss, and graphile-worker in its batched configuration.
 *
 * Backlogs are inserted with `INSERT ... SELECT generate_series` (ours: valid rows straight into
 * `scheduled_commands`), due one to 24 days from now, then `VACUUM ANALYZE` (what autovacuum does
 * to a table that has been around).
 */
import { withClient } from '../lib/db.mjs';
import { insertJobsPg } from '../lib/job-sql.mjs';
import { compareTables, round } from '../lib/measure.mjs';
import { fmt, printTable, runRates } from '../lib/report.mjs';
import { OURS, SYSTEMS } from '../lib/systems.mjs';

const DAY = 86_400_000;

/**
 * Inserts `count` jobs into `system`'s table, due one day from now and then one every 2 s (ours:
 * UUIDv7 ids older than any new one), then `VACUUM ANALYZE`s it.
 */
export async function insertBacklog(system, url, count) {
  return withClient(url, async (c) => {
    const t0 = performance.now();
    await insertJobsPg(c, system, {
      count,
      firstDueMs: DAY,
      spacingMs: 2_000,
      startSeq: 10_000_000,
    });
    const insertMs = performance.now() - t0;
    await c.query(`VACUUM (ANALYZE) ${system.table}`);
    const { rows } = await c.query(
      `SELECT pg_size_pretty(pg_database_size(current_database())) AS size`,
    );
    return {
      insertMs: Math.round(insertMs),
      vacuumMs: Math.round(performance.now() - t0 - insertMs),
      databaseSize: rows[0].size,
    };
  });
}

/**
 * `EXPLAIN (ANALYZE, BUFFERS)` of the claim statement the worker ran (captured from its TypeORM
 * logger), with `due` commands due now added first; rolled back, so nothing is claimed.
 */
export async function explainClaim(store, claimSql, due) {
  await store.client.request('scheduleBulk', { count: due, chunk: 1_000, startSeq: 9_000_000 });
  return withClient(store.url, async (c) => {
    await c.query('ANALYZE scheduled_commands');
    await c.query('BEGIN');
    try {
      const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${claimSql}`, [
        'bench-explain',
        OURS.batchSize,
        30_000,
        // No scheduledFrom hint: the claim from the start of the due range, the most it ever reads.
        Number.MIN_SAFE_INTEGER,
      ]);
      return rows.map((r) => r['QUERY PLAN']);
    } finally {
      await c.query('ROLLBACK');
    }
  });
}

/** Empty table against backlog for one system: alternated runs (drift hits both sides alike). */
async function compare(system, ctx, { backlogRows, count, runs, warm }) {
  const workerEnv = system.ours ? { BENCH_CAPTURE_CLAIM: '1' } : {};
  const { empty, full, fillResult, after } = await compareTables(system, ctx.serverUrl, {
    label: 'backlog',
    count,
    runs,
    warm,
    workerEnv,
    fill: (store) => {
      process.stderr.write(
        `  backlog: ${system.label}: inserting ${fmt(backlogRows)} future jobs\n`,
      );
      return insertBacklog(system, store.url, backlogRows);
    },
    afterRuns: async (stores, _filled, sides) => {
      if (!system.ours) return {};
      const claimSql = sides.empty.runs[0].claimSql ?? sides.full.runs[0].claimSql;
      if (!claimSql) return {};
      return {
        claimSql,
        plans: {
          empty: await explainClaim(stores.empty, claimSql, count),
          backlog: await explainClaim(stores.full, claimSql, count),
        },
      };
    },
  });
  return {
    system: system.id,
    label: system.label,
    inserted: fillResult,
    empty,
    backlog: full,
    slowdown: round(1 - full.median.perSecond / empty.median.perSecond, 4),
    ...(warm
      ? { warmSlowdown: round(1 - full.warm.median.perSecond / empty.warm.median.perSecond, 4) }
      : {}),
    ...after,
  };
}

/** @param {object} ctx `{ serverUrl, quick }` */
export async function backlog(ctx) {
  const backlogRows = ctx.quick ? 200_000 : 1_000_000;
  const count = ctx.quick ? 10_000 : 20_000;
  const runs = ctx.quick ? 2 : 3;
  // The warm rounds only in the full run: they would take --quick past two minutes.
  const warm = !ctx.quick;
  const rows = [];
  for (const id of ['ours-pg', 'pgboss', 'graphile-batched']) {
    rows.push(await compare(SYSTEMS[id], ctx, { backlogRows, count, runs, warm }));
  }
  const warmColumns = warm
    ? [
        { title: 'warm: empty' },
        { title: 'warm: backlog' },
        { title: 'runs: empty; backlog', align: 'left' },
        { title: 'warm slowdown' },
      ]
    : [];
  const warmCells = (r) =>
    warm
      ? [
          fmt(r.empty.warm.median.perSecond),
          fmt(r.backlog.warm.median.perSecond),
          `${runRates(r.empty.warm.runs)}; ${runRates(r.backlog.warm.runs)}`,
          `${(r.warmSlowdown * 100).toFixed(1)} %`,
        ]
      : [];
  const ours = rows[0];
  const table = printTable(
    `4. Backlog: throughput with ${fmt(backlogRows)} future jobs in the table against an empty table (${fmt(count)} jobs due now, 1 worker process, median of ${runs})`,
    [
      { title: 'system', align: 'left' },
      { title: 'empty: jobs/s' },
      { title: 'runs', align: 'left' },
      { title: 'backlog: jobs/s' },
      { title: 'runs', align: 'left' },
      { title: 'slowdown' },
      ...warmColumns,
      { title: 'database with backlog' },
    ],
    rows.map((r) => [
      r.label,
      fmt(r.empty.median.perSecond),
      runRates(r.empty.runs),
      fmt(r.backlog.median.perSecond),
      runRates(r.backlog.runs),
      `${(r.slowdown * 100).toFixed(1)} %`,
      ...warmCells(r),
      r.inserted.databaseSize,
    ]),
    [
      warm
        ? 'Each run is a first round on freshly started worker processes and a warm round right after it on the same processes, as in scenario 1. Empty-table and backlog runs alternate.'
        : 'Each run is a first round on freshly started worker processes (no warm round in --quick). Empty-table and backlog runs alternate.',
      `Backlogs inserted with one INSERT ... SELECT generate_series per 250,000 rows (ours: straight into scheduled_commands; pg-boss: into pgboss.job; graphile-worker: through graphile_worker.add_jobs), then VACUUM ANALYZE; ours took ${fmt(ours.inserted.insertMs / 1000, 1)} s + ${fmt(ours.inserted.vacuumMs / 1000, 1)} s.`,
      ours.plans
        ? `Our claim statement (as the worker sent it):\n\n\`\`\`sql\n${ours.claimSql.trim()}\n\`\`\`\n\nIts plan with ${fmt(count)} commands due and nothing else in the table (EXPLAIN (ANALYZE, BUFFERS), rolled back; $2 = ${OURS.batchSize}):\n\n\`\`\`\n${ours.plans.empty.join('\n')}\n\`\`\`\n\nIts plan with ${fmt(count)} commands due and the ${fmt(backlogRows)}-command backlog:\n\n\`\`\`\n${ours.plans.backlog.join('\n')}\n\`\`\``
        : 'Our claim statement was not captured.',
    ],
  );
  return { name: 'backlog', backlogRows, count, runs, rows, table };
}
