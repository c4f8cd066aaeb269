/**
 * Telemetry overhead (`--only=telemetry`, not part of the default run): the throughput scenario's
 * no-op jobs on PostgreSQL, one worker process, in three configurations of our library:
 * - `off`: telemetry disabled (`telemetry: { enabled: false }`: `@opentelemetry/api` is not even
 *   loaded; what is left is one property check per command), the baseline;
 * - `no SDK`: the default, with `@opentelemetry/api` installed and no SDK registered;
 * - `SDK`: a tracer provider (batch span processor, an exporter that drops the spans), the
 *   AsyncLocalStorage context manager and a meter provider registered in every benchmark process,
 *   so that scheduling writes producer spans and trace contexts and every run a consumer span;
 * - `SDK without its context manager`: the same without AsyncLocalStorage, which shows how much of
 *   the SDK's cost is the context manager's (it slows every promise of the process), not the spans'.
 *
 * Then `off` and `SDK` again with handlers that write to the database: each completes its command
 * in its own transaction (`context.transaction()`, `BENCH_TX_HANDLER=1`), the smallest handler with
 * database work. Each of those rows is compared with the `off` row of its kind.
 */
import path from 'node:path';
import { measureThroughput } from '../lib/measure.mjs';
import { cpuPerJob, fmt, printTable, ratio, RESULTS_DIR, runRates } from '../lib/report.mjs';
import { SYSTEMS } from '../lib/systems.mjs';

const VARIANTS = [
  { otel: 'off', label: 'ours, telemetry off' },
  { otel: 'none', label: 'ours, no SDK registered' },
  { otel: 'sdk', label: 'ours, SDK: tracing + metrics' },
  { otel: 'sdk-no-context', label: 'ours, SDK without its context manager' },
  { otel: 'off', tx: true, label: 'handlers in a transaction: telemetry off' },
  { otel: 'sdk', tx: true, label: 'handlers in a transaction: SDK, tracing + metrics' },
];

/** @param {object} ctx `{ serverUrl, quick, profile }` (`profile`: CPU profiles of the worker processes) */
export async function telemetry(ctx) {
  const count = ctx.quick ? 5_000 : 20_000;
  const runs = ctx.quick ? 1 : 3;
  const base = SYSTEMS['ours-pg'];
  const rows = [];
  for (const variant of VARIANTS) {
    process.stderr.write(`  telemetry: ${variant.label}, ${count} jobs × ${runs} run(s)\n`);
    const system = {
      ...base,
      // The base id: the warm round inserts its jobs with the statement of this id.
      label: variant.label,
      env: {
        ...base.env,
        BENCH_OTEL: variant.otel,
        ...(variant.tx ? { BENCH_TX_HANDLER: '1' } : {}),
      },
    };
    const result = await measureThroughput(system, ctx.serverUrl, {
      label: `otel-${variant.otel}`,
      count,
      processes: 1,
      runs,
      warm: !ctx.quick,
      nodeArgs: ctx.profile
        ? () => [
            '--cpu-prof',
            `--cpu-prof-dir=${path.join(RESULTS_DIR, 'profiles')}`,
            `--cpu-prof-name=telemetry-${variant.otel}-${Date.now()}.cpuprofile`,
          ]
        : undefined,
    });
    rows.push({ variant: variant.otel, tx: variant.tx === true, label: variant.label, ...result });
  }
  const offOf = (row) => rows.find((r) => r.variant === 'off' && r.tx === row.tx);
  const table = printTable(
    `Telemetry overhead: ${fmt(count)} no-op jobs due now, PostgreSQL, one worker process (median of ${runs} run${runs > 1 ? 's' : ''})`,
    [
      { title: 'configuration', align: 'left' },
      { title: 'jobs/s' },
      { title: 'vs off' },
      { title: 'all runs (jobs/s)', align: 'left' },
      { title: 'CPU µs/job: worker + database' },
      { title: 'warm: jobs/s' },
      { title: 'vs off' },
      { title: 'warm: CPU µs/job' },
    ],
    rows.map((r) => [
      r.label,
      fmt(r.median.perSecond),
      ratio(r.median.perSecond, offOf(r).median.perSecond),
      runRates(r.runs),
      cpuPerJob(r.median),
      r.warm ? fmt(r.warm.median.perSecond) : '—',
      r.warm && offOf(r).warm
        ? ratio(r.warm.median.perSecond, offOf(r).warm.median.perSecond)
        : '—',
      r.warm ? cpuPerJob(r.warm.median) : '—',
    ]),
    [
      'Targets: under 2 % below "off" with no SDK, under 10 % with the SDK and tracing on. On a shared 2-core machine, differences of a few percent are within the noise of one run.',
      'The last two rows run handlers that complete their command in a transaction of their own (a database write per job); they are compared with the "off" row of that kind.',
      'The first thousands of spans also pay for compiling the SDK (a fixed cost of about 0.1 s of CPU): the warm round, on processes that have run a round already, shows the steady cost per job.',
    ],
  );
  return { name: 'telemetry', count, runs, rows, table };
}
