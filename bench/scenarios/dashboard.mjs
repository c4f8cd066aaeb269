/**
 * Scenario 9 — the dashboard on a big table: PostgreSQL filled with 1,000,000 entries
 * (`BENCH_DASHBOARD_ROWS`; see `bench/lib/dashboard-fill.mjs` for the mix), the dashboard module
 * mounted in a Nest app on Express (worker disabled, so nothing moves), and every read of its JSON
 * API called over HTTP one after another: p50 and p99 per call (`BENCH_DASHBOARD_SAMPLES` each,
 * after a warm-up), against the target of 50 ms at p99. Then `EXPLAIN (ANALYZE, BUFFERS)` of the
 * statements of the slowest calls, the overview and the command-type filters, and the cost of counting finished entries per minute / hour
 * from the table (what cluster-wide throughput charts would query). Not in `--quick`.
 */
import { createDatabase, withClient } from '../lib/db.mjs';
import { COMMON_TYPES, fillDashboardTable, RARE_TYPE } from '../lib/dashboard-fill.mjs';
import { fmt, percentile, printTable } from '../lib/report.mjs';

const TARGET_P99_MS = 50;

/** TypeORM logger that keeps the statements of the request under way, for the EXPLAINs. */
class StatementRecorder {
  statements = [];
  logQuery(query, parameters) {
    this.statements.push({ query, parameters: parameters ?? [] });
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

/** The dashboard in a Nest app on Express; imported here, after `run.mjs` has built the library. */
async function startApp(url, recorder) {
  await import('reflect-metadata');
  const { Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { CqrsModule } = await import('@nestjs/cqrs');
  const { TypeOrmModule } = await import('@nestjs/typeorm');
  const { ScheduledCommandsModule } = await import('nestjs-scheduled-commands');
  const { ScheduledCommandsDashboardModule } = await import('nestjs-scheduled-commands/dashboard');
  class DashboardBenchModule {}
  Module({
    imports: [
      CqrsModule.forRoot(),
      TypeOrmModule.forRoot({
        type: 'postgres',
        url,
        autoLoadEntities: true,
        synchronize: true,
        logging: false,
        logger: recorder,
        applicationName: 'bench-dashboard',
      }),
      ScheduledCommandsModule.forRoot({ enabled: false }),
      ScheduledCommandsDashboardModule.forRoot({ path: 'dashboard', access: () => 'all' }),
    ],
  })(DashboardBenchModule);
  const app = await NestFactory.create(DashboardBenchModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  return { app, base: `${await app.getUrl()}/dashboard/api/`.replace('[::1]', '127.0.0.1') };
}

/** The calls measured: a name and a function giving the path of sample `i`. */
function calls(sample) {
  const { ids, keys, cursor, correlationIds } = sample;
  const pick = (list, i) => encodeURIComponent(list[i % list.length]);
  return [
    ['overview', () => 'overview'],
    ['entries, no filter', () => 'entries'],
    ['entries, oldest first', () => 'entries?order=asc'],
    ['entries, next page (cursor)', () => `entries?cursor=${cursor}`],
    ...['pending', 'processing', 'completed', 'failed', 'cancelled', 'expired'].map((s) => [
      `entries, status ${s}`,
      () => `entries?status=${s}`,
    ]),
    ['entries, status failed,expired,cancelled', () => 'entries?status=failed,expired,cancelled'],
    ['entries, command type (common)', (i) => `entries?commandType=${pick(COMMON_TYPES, i)}`],
    ['entries, command type (rare)', () => `entries?commandType=${RARE_TYPE}`],
    ['entries, command type (none)', () => 'entries?commandType=no-such-type'],
    ...['pending', 'processing', 'completed', 'failed'].map((s) => [
      `entries, rare type + status ${s}`,
      () => `entries?commandType=${RARE_TYPE}&status=${s}`,
    ]),
    ['entries, correlation id', (i) => `entries?correlationId=${pick(correlationIds, i)}`],
    ['entry detail (by id)', (i) => `entries/${pick(ids, i)}`],
    ['lookup by idempotency key', (i) => `lookup?idempotencyKey=${pick(keys, i)}`],
  ];
}

/** Ids, live idempotency keys, correlation ids and a second-page cursor to use in the calls. */
async function sampleOf(url, base) {
  return withClient(url, async (c) => {
    const column = async (sql) => (await c.query(sql)).rows.map((r) => r.v);
    const ids = await column(
      `SELECT id AS v FROM scheduled_commands TABLESAMPLE SYSTEM (1) LIMIT 500`,
    );
    const keys = await column(
      `SELECT idempotency_key AS v FROM scheduled_commands
        WHERE status IN ('pending', 'processing') AND idempotency_key IS NOT NULL LIMIT 500`,
    );
    const correlationIds = await column(
      `SELECT correlation_id AS v FROM scheduled_commands TABLESAMPLE SYSTEM (1)
        WHERE correlation_id IS NOT NULL LIMIT 500`,
    );
    const first = await (await fetch(`${base}entries`)).json();
    return { ids, keys, correlationIds, cursor: first.nextCursor };
  });
}

/** Times `samples` calls of each API read; returns rows with p50, p99 and the last statements. */
async function measureCalls(base, sample, recorder, samples) {
  const results = [];
  for (const [name, path] of calls(sample)) {
    const times = [];
    for (let i = -10; i < samples; i++) {
      recorder.statements = [];
      const t0 = performance.now();
      const response = await fetch(base + path(Math.max(i, 0)));
      await response.arrayBuffer();
      const ms = performance.now() - t0;
      if (!response.ok) throw new Error(`${name}: ${response.status} for ${path(i)}`);
      if (i >= 0) times.push(ms);
    }
    results.push({
      name,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      max: Math.max(...times),
      statements: recorder.statements,
    });
  }
  return results;
}

/**
 * What the database does for `call`, apart from HTTP, Nest and the load of the machine: the
 * median over 5 runs of the summed execution time of its statements, and the buffers they touch.
 */
async function databaseCost(url, call) {
  return withClient(url, async (c) => {
    const runs = [];
    let buffers = 0;
    for (let run = 0; run < 5; run++) {
      let ms = 0;
      buffers = 0;
      for (const { query, parameters } of call.statements) {
        const { rows } = await c.query(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}`,
          parameters,
        );
        const [{ Plan: plan, 'Execution Time': time }] = rows[0]['QUERY PLAN'];
        ms += time;
        buffers += plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
      }
      runs.push(ms);
    }
    return { dbMs: percentile(runs, 50), buffers };
  });
}

/** `EXPLAIN (ANALYZE, BUFFERS)` of each statement of `call`, as text. */
async function explain(url, call) {
  return withClient(url, async (c) => {
    const plans = [];
    for (const { query, parameters } of call.statements) {
      const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${query}`, parameters);
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return plans.join('\n\n');
  });
}

/** Time and plan of counting finished entries per bucket over the last hour and day. */
async function throughputQueries(url) {
  const queries = [
    ['finished per minute, last hour', 60_000, 3_600_000],
    ['finished per hour, last day', 3_600_000, 86_400_000],
  ];
  return withClient(url, async (c) => {
    const out = [];
    for (const [name, bucket, window] of queries) {
      const sql = `SELECT completed_at / ${bucket} AS bucket, COUNT(*) AS n,
          COUNT(*) FILTER (WHERE status <> 'completed') AS failed
        FROM scheduled_commands
        WHERE completed_at IS NOT NULL AND completed_at >= $1 GROUP BY 1`;
      const times = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        await c.query(sql, [Date.now() - window]);
        times.push(performance.now() - t0);
      }
      const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, [
        Date.now() - window,
      ]);
      out.push({ name, p50: percentile(times, 50), plan: rows.map((r) => r['QUERY PLAN']) });
    }
    return out;
  });
}

export async function dashboard({ serverUrl }) {
  const rows = Number(process.env.BENCH_DASHBOARD_ROWS ?? 1_000_000);
  const samples = Number(process.env.BENCH_DASHBOARD_SAMPLES ?? 200);
  const db = await createDatabase(serverUrl, 'dashboard');
  const recorder = new StatementRecorder();
  const { app, base } = await startApp(db.url, recorder);
  try {
    const t0 = performance.now();
    const sizes = await withClient(db.url, async (c) => {
      await fillDashboardTable(c, rows);
      const size = await c.query(`SELECT pg_size_pretty(pg_table_size('scheduled_commands')) AS t,
          pg_size_pretty(pg_indexes_size('scheduled_commands')) AS i`);
      return size.rows[0];
    });
    const fillS = (performance.now() - t0) / 1000;
    process.stderr.write(`  filled ${fmt(rows)} rows in ${fillS.toFixed(0)} s\n`);
    const sample = await sampleOf(db.url, base);
    const results = await measureCalls(base, sample, recorder, samples);
    for (const call of results) Object.assign(call, await databaseCost(db.url, call));
    const table = printTable(
      `Scenario 9 — dashboard API on PostgreSQL, ${fmt(rows)} entries (${samples} calls each, HTTP, one at a time)`,
      [
        { title: 'call' },
        ...['p50 ms', 'p99 ms', 'max ms', 'SQL ms', 'buffers'].map((title) => ({
          title,
          align: 'right',
        })),
      ],
      results.map((r) => [
        r.name,
        fmt(r.p50),
        fmt(r.p99),
        fmt(r.max),
        fmt(r.dbMs, 2),
        fmt(r.buffers),
      ]),
      [
        `Target: p99 < ${TARGET_P99_MS} ms. Table ${sizes.t}, indexes ${sizes.i}; filled in ${fillS.toFixed(0)} s (indexes in place), then VACUUM ANALYZE.`,
        "SQL ms: execution time of the call's statements in PostgreSQL (EXPLAIN ANALYZE, median of 5); buffers: the 8 kB pages they touched.",
        `Over target: ${
          results
            .filter((r) => r.p99 >= TARGET_P99_MS)
            .map((r) => r.name)
            .join(', ') || 'none'
        }.`,
      ],
    );
    // The plans of the slowest calls, of the overview and of every command-type filter.
    const slowest = [...results].sort((a, b) => b.p99 - a.p99).slice(0, 3);
    const explained = results.filter(
      (r) => slowest.includes(r) || r.name === 'overview' || /type/.test(r.name),
    );
    const explains = [];
    for (const call of explained) {
      const plan = await explain(db.url, call);
      explains.push({ name: call.name, plan });
      console.log(`\nEXPLAIN of "${call.name}" (p99 ${fmt(call.p99)} ms):\n${plan}`);
    }
    const throughput = await throughputQueries(db.url);
    for (const q of throughput) {
      console.log(`\n${q.name} from the table: p50 ${fmt(q.p50)} ms\n${q.plan.join('\n')}`);
    }
    return {
      name: 'dashboard',
      rows,
      samples,
      sizes,
      fillSeconds: Math.round(fillS),
      calls: results.map(({ statements, ...r }) => r),
      explains,
      throughput,
      table,
    };
  } finally {
    await app.close();
    await db.drop();
  }
}
