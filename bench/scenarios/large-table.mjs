/**
 * Scenario 7 — ten million finished rows: throughput (scenario 1, one worker process, PostgreSQL,
 * ours) with `rows` finished entries in the table (a week of retention at about 16 jobs/s), against
 * an empty table, alternated; the table's and indexes' sizes and what (auto)vacuum did.
 *
 * The finished rows are written by `INSERT ... SELECT generate_series` straight into
 * `scheduled_commands` (1,000,000 per statement, with the table's indexes in place), then
 * `VACUUM ANALYZE`: what the table looks like after a week of completions that autovacuum has
 * caught up with. `BENCH_LARGE_ROWS` sets another row count (to try the scenario quickly).
 */
import { withClient } from '../lib/db.mjs';
import { explainClaim } from './backlog.mjs';
import { compareTables, round } from '../lib/measure.mjs';
import { cpuPerJob, fmt, printTable, runRates } from '../lib/report.mjs';
import { OURS, SYSTEMS } from '../lib/systems.mjs';
import { indexSizes, mb, statsDelta, tableStats } from '../lib/table-stats.mjs';

const WEEK = 7 * 86_400_000;
const CHUNK = 1_000_000;

/**
 * Finished rows `$1..$2` of `$3`, spread evenly over the week before now: UUIDv7 ids of their
 * creation time (older than any new id), one in a hundred dead-lettered (`failed`, with an error),
 * the others `completed` with a result, as the worker leaves them.
 */
const FINISHED_SQL = `WITH base AS (SELECT FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint AS ms)
  INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
    retry_count, max_retries, attempts, created_at, started_at, completed_at, error_message,
    result_payload)
  SELECT substr(x.h, 1, 8) || '-' || substr(x.h, 9, 4) || '-7' || substr(x.r, 1, 3) || '-'
           || substr('89ab', (1 + g.i % 4)::int, 1) || substr(x.r, 4, 3) || '-' || substr(x.r, 7, 12),
         'bench-noop', '{"seq":' || g.i || '}', CASE WHEN x.failed THEN 'failed' ELSE 'completed' END,
         x.at, 0, CASE WHEN x.failed THEN 3 ELSE 0 END, 3, CASE WHEN x.failed THEN 4 ELSE 1 END,
         x.at, x.at + 2, x.at + 3, CASE WHEN x.failed THEN 'Error: bench failure' END,
         CASE WHEN x.failed THEN NULL ELSE g.i::text END
  FROM base, generate_series($1::bigint, $2::bigint) AS g(i),
    LATERAL (SELECT base.ms - ${WEEK} + (g.i * ${WEEK}) / $3::bigint AS at, g.i % 100 = 0 AS failed,
                    md5(g.i::text) AS r) y,
    LATERAL (SELECT lpad(to_hex(y.at), 12, '0') AS h, y.r, y.failed, y.at) x`;

/** Inserts `count` finished rows into our table at `url`, then `VACUUM ANALYZE`s it. */
async function insertFinished(url, count) {
  return withClient(url, async (c) => {
    const t0 = performance.now();
    for (let from = 0; from < count; from += CHUNK) {
      await c.query(FINISHED_SQL, [from + 1, Math.min(count, from + CHUNK), count]);
      process.stderr.write(`  large: ${fmt(Math.min(count, from + CHUNK))} rows\n`);
    }
    const insertMs = performance.now() - t0;
    await c.query('VACUUM (ANALYZE) scheduled_commands');
    return {
      insertMs: Math.round(insertMs),
      vacuumMs: Math.round(performance.now() - t0 - insertMs),
    };
  });
}

/**
 * `EXPLAIN (ANALYZE, BUFFERS)` of the completion statement the worker ran (`completeSql`, captured
 * from its TypeORM logger) for a batch of `limit` commands claimed by `claimSql` just before, in one
 * transaction that is rolled back: nothing is claimed or completed. Commands due now must be in.
 */
async function explainCompletion(store, claimSql, completeSql, limit) {
  return withClient(store.url, async (c) => {
    await c.query('BEGIN');
    try {
      const claimed = await c.query(claimSql, [
        'bench-explain',
        limit,
        30_000,
        Number.MIN_SAFE_INTEGER,
      ]);
      const batch = claimed.rows.map((r) => ({
        v_id: r.id,
        v_worker: 'bench-explain',
        v_attempt: Number(r.attempts),
        v_result: '1',
      }));
      const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${completeSql}`, [
        JSON.stringify(batch),
      ]);
      return rows.map((r) => r['QUERY PLAN']);
    } finally {
      await c.query('ROLLBACK');
    }
  });
}

/** The top node's buffer counts and the execution time of a plan (lines of EXPLAIN output). */
function planSummary(lines) {
  const buffers = lines.find((l) => l.trim().startsWith('Buffers:'))?.trim();
  const time = lines.find((l) => l.startsWith('Execution Time'));
  return `${buffers ?? 'no buffer counts'}, ${time ?? ''}`.trim();
}

/** @param {object} ctx `{ serverUrl, quick }` */
export async function largeTable(ctx) {
  const rows = Number(process.env.BENCH_LARGE_ROWS ?? 10_000_000);
  const count = 20_000;
  const runs = 3;
  const system = SYSTEMS['ours-pg'];
  const stats = (store) => withClient(store.url, (c) => tableStats(c, system.table));
  const result = await compareTables(system, ctx.serverUrl, {
    label: 'large',
    count,
    runs,
    warm: true,
    fill: async (store) => {
      process.stderr.write(`  large: inserting ${fmt(rows)} finished rows\n`);
      const inserted = await insertFinished(store.url, rows);
      return { ...inserted, before: await stats(store) };
    },
    workerEnv: { BENCH_CAPTURE_CLAIM: '1' },
    afterRuns: async (stores, filled, sides) => {
      const after = await stats(stores.full);
      const { claimSql, completeSql } = sides.full.runs[0];
      // The claim's plan on both tables as the runs left them (dead row versions included; each
      // explainClaim adds the commands due), then the completion's.
      const plans = claimSql
        ? {
            empty: await explainClaim(stores.empty, claimSql, count),
            full: await explainClaim(stores.full, claimSql, count),
          }
        : null;
      const completionPlans =
        claimSql && completeSql
          ? {
              empty: await explainCompletion(stores.empty, claimSql, completeSql, OURS.batchSize),
              full: await explainCompletion(stores.full, claimSql, completeSql, OURS.batchSize),
            }
          : null;
      return {
        after,
        delta: statsDelta(filled.before, after),
        claimSql,
        completeSql,
        plans,
        completionPlans,
      };
    },
  });
  const { empty, full, fillResult, after } = result;
  const line = (name, r) => [
    name,
    fmt(r.median.perSecond),
    runRates(r.runs),
    cpuPerJob(r.median),
    fmt(r.warm.median.perSecond),
    runRates(r.warm.runs),
    cpuPerJob(r.warm.median),
  ];
  const slowdown = round(1 - full.median.perSecond / empty.median.perSecond, 4);
  const warmSlowdown = round(1 - full.warm.median.perSecond / empty.warm.median.perSecond, 4);
  const { before } = fillResult;
  const table = printTable(
    `7. Ten million rows: throughput with ${fmt(rows)} finished entries in the table against an empty table (${fmt(count)} jobs due now, 1 worker process, median of ${runs})`,
    [
      { title: 'table', align: 'left' },
      { title: 'jobs/s' },
      { title: 'runs', align: 'left' },
      { title: 'CPU µs/job: worker + database' },
      { title: 'warm: jobs/s' },
      { title: 'runs', align: 'left' },
      { title: 'CPU µs/job' },
    ],
    [line('empty', empty), line(`${fmt(rows)} finished`, full)],
    [
      `Slowdown with the finished rows: ${(slowdown * 100).toFixed(1)} % (first round), ${(warmSlowdown * 100).toFixed(1)} % (warm round). Configuration: ${system.config}. Empty-table and full-table runs alternate; each run is a first round on fresh worker processes and a warm round on the same processes, as in scenario 1.`,
      `The finished rows: one INSERT ... SELECT generate_series per ${fmt(CHUNK)} rows straight into scheduled_commands (indexes in place; one in a hundred failed, the rest completed with a result, spread over the past week), then VACUUM ANALYZE: ${fmt(fillResult.insertMs / 1000, 1)} s + ${fmt(fillResult.vacuumMs / 1000, 1)} s.`,
      `Sizes after the fill: table ${mb(before.tableBytes)} MB, indexes ${mb(before.indexesBytes)} MB (${indexSizes(before)}).`,
      ...(after.plans
        ? [
            `The claim's plan (EXPLAIN (ANALYZE, BUFFERS), rolled back, ${fmt(count)} commands due, $2 = ${OURS.batchSize}) after the runs, empty table: ${planSummary(after.plans.empty)}; with the finished rows: ${planSummary(after.plans.full)}.`,
          ]
        : []),
      ...(after.completionPlans
        ? [
            `The completion of ${OURS.batchSize} commands claimed just before (EXPLAIN (ANALYZE, BUFFERS), rolled back), empty table: ${planSummary(after.completionPlans.empty)}; with the finished rows: ${planSummary(after.completionPlans.full)}. The statement and its plan with the finished rows:\n\n\`\`\`sql\n${after.completeSql.trim()}\n\`\`\`\n\n\`\`\`\n${after.completionPlans.full.join('\n')}\n\`\`\``,
          ]
        : []),
      `After the ${runs * 2} rounds (${fmt(runs * 2 * count)} more commands): table ${mb(after.after.tableBytes)} MB, indexes ${mb(after.after.indexesBytes)} MB (${indexSizes(after.after)}); ${fmt(after.after.deadTuples)} dead row versions; ${fmt(after.delta.updated)} updates of which ${fmt(after.delta.hotUpdated)} HOT; autovacuum ran ${after.delta.autovacuums} time(s) during the runs and autoanalyze ${after.delta.autoanalyzes} (the table's last autovacuum: ${after.after.lastAutovacuum ?? 'never'}). Autovacuum visits a table once its dead row versions pass 50 + 20 % of its rows (PostgreSQL's defaults): ${fmt(50 + 0.2 * rows)} here.`,
    ],
  );
  return {
    name: 'large',
    rows,
    count,
    runs,
    empty,
    full,
    slowdown,
    warmSlowdown,
    fill: fillResult,
    after,
    batchSize: OURS.batchSize,
    table,
  };
}
