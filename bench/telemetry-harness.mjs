#!/usr/bin/env node
/**
 * `node bench/telemetry-harness.mjs [--jobs=N] [--rounds=N] [--only=off,none,sdk,sdk-no-context]
 * [--lib=<dir>,<dir>] [--warm]` (`--only=floor,floor-sdk`: the SDK's own cost, see `FLOOR_MODES`;
 * `--warm`: twice the jobs, the second half measured, once every code path is compiled):
 * the cost of our telemetry in the worker alone, without a database. Each configuration runs in a
 * child process of its own (an SDK, once registered, stays for the process): a Nest application
 * with the in-memory store schedules `jobs` no-op commands with its worker off, then a second
 * application on the same store runs them; the CPU time of the run (first handler start to last
 * completion) is reported per job. Configurations are interleaved over `rounds` rounds, which
 * keeps a noisy machine's drift out of the comparison. Add `--cpu-prof` to the child's `execArgv`
 * (environment `BENCH_HARNESS_PROFILE=1`) to profile it. Uses the built package (`npm run build`);
 * `--lib` names other builds of it (`dist` directories inside this repository, so that they find its
 * `node_modules`) to compare, interleaved too.
 *
 * Configurations are those of the telemetry scenario (see `scenarios/telemetry.mjs`).
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MODES = ['off', 'none', 'sdk', 'sdk-no-context'];
/**
 * Not part of the default set: the SDK's own cost per run, without the library. `floor` runs the
 * same number of no-op "handlers" (an async function per job, 500 at a time, like the worker's
 * concurrency) with no SDK registered; `floor-sdk` registers the SDK of `sdk` and wraps each in
 * exactly the SDK calls a run of ours makes (a consumer span with the same attributes and parent,
 * the handler inside `context.with`, the outcome attribute, `end()`, two histogram recordings and
 * a counter added per batch). Their difference is what any instrumentation of a run costs in
 * this SDK, whoever writes it.
 */
const FLOOR_MODES = ['floor', 'floor-sdk'];
const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

if (process.env.BENCH_HARNESS_MODE) {
  await child(process.env.BENCH_HARNESS_MODE, Number(process.env.BENCH_HARNESS_JOBS));
} else {
  const jobs = Number(arg('jobs', '20000'));
  const rounds = Number(arg('rounds', '3'));
  const libs = arg('lib', '').split(',').filter(Boolean);
  const modes = arg('only', MODES.join(','))
    .split(',')
    .flatMap((mode) => (libs.length ? libs.map((lib) => `${mode}@${lib}`) : [mode]));
  const results = Object.fromEntries(modes.map((m) => [m, []]));
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) results[mode].push(await runChild(mode, jobs));
  }
  // The floor modes compare with `floor`, the others with `off`.
  const offOf = (mode) =>
    results[mode.replace(/^[^@]*/, mode.startsWith('floor') ? 'floor' : 'off')];
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const width = Math.max(16, ...modes.map((m) => m.length + 1));
  const warm = process.argv.includes('--warm') ? ', warm (second half of twice as many)' : '';
  console.log(
    `${jobs} no-op jobs${warm}, in-memory store, ${rounds} interleaved round(s); medians`,
  );
  console.log(`${'configuration'.padEnd(width)} CPU µs/job   vs off   jobs/s    all CPU µs/job`);
  for (const mode of modes) {
    const cpu = median(results[mode].map((r) => r.cpuUs));
    const off = offOf(mode) ? median(offOf(mode).map((r) => r.cpuUs)) : null;
    const rate = median(results[mode].map((r) => r.perSecond));
    console.log(
      `${mode.padEnd(width)} ${cpu.toFixed(1).padStart(10)} ${off ? `${(cpu - off >= 0 ? '+' : '') + (cpu - off).toFixed(1)}`.padStart(8) : '       —'} ${rate.toFixed(0).padStart(8)}    ${results[mode].map((r) => r.cpuUs.toFixed(1)).join(', ')}`,
    );
  }
}

function runChild(variant, jobs) {
  const [mode, lib = ''] = variant.split('@');
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), [], {
      env: {
        ...process.env,
        BENCH_HARNESS_MODE: mode,
        BENCH_HARNESS_JOBS: String(jobs),
        BENCH_HARNESS_LIB: lib,
        BENCH_HARNESS_WARM: process.argv.includes('--warm') ? '1' : '',
      },
      execArgv:
        process.env.BENCH_HARNESS_PROFILE === '1'
          ? ['--cpu-prof', `--cpu-prof-name=harness-${mode}-${Date.now()}.cpuprofile`]
          : [],
    });
    proc.on('message', resolve);
    proc.on('error', reject);
    proc.on('exit', (code) => code && reject(new Error(`${mode}: exit ${code}`)));
  });
}

async function child(mode, jobs) {
  if (FLOOR_MODES.includes(mode)) return floor(mode, jobs);
  await import('reflect-metadata');
  if (mode === 'sdk' || mode === 'sdk-no-context') await registerSdk(mode);
  const { Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { Command, CommandHandler, CqrsModule } = await import('@nestjs/cqrs');
  const dir = process.env.BENCH_HARNESS_LIB;
  const lib = await import(
    dir ? pathToFileURL(path.resolve(dir, 'index.js')).href : 'nestjs-scheduled-commands'
  );
  const store = new lib.InMemoryScheduledCommandStore();
  // `--warm`: twice the jobs, measured over the second half (the SDK's and our code compiled).
  const skip = process.env.BENCH_HARNESS_WARM === '1' ? jobs : 0;
  let started = 0;
  let cpu0;
  let t0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));

  class NoopCommand extends Command {
    constructor(seq) {
      super();
      this.seq = seq;
    }
  }
  lib.ScheduledCommand('harness-noop')(NoopCommand);
  class NoopHandler {
    async execute(command) {
      if (started++ === skip) {
        cpu0 = process.cpuUsage();
        t0 = performance.now();
      }
      return command.seq;
    }
  }
  CommandHandler(NoopCommand)(NoopHandler);

  const appModule = (enabled) => {
    class AppModule {}
    Module({
      imports: [
        CqrsModule.forRoot(),
        lib.ScheduledCommandsModule.forRoot({
          store,
          enabled,
          batchSize: 250,
          concurrency: 500,
          pollingInterval: 1_000,
          telemetry: { enabled: mode !== 'off', statusGaugeInterval: 0 },
        }),
      ],
      providers: enabled ? [NoopHandler] : [],
    })(AppModule);
    return AppModule;
  };
  const options = { logger: ['error', 'warn'], abortOnError: false };
  const client = await NestFactory.createApplicationContext(appModule(false), options);
  const scheduler = client.get(lib.CommandScheduler);
  for (let from = 0; from < jobs + skip; from += 1_000) {
    const n = Math.min(1_000, jobs + skip - from);
    await scheduler.scheduleMany(
      Array.from({ length: n }, (_, i) => ({ command: new NoopCommand(from + i) })),
    );
  }
  const worker = await NestFactory.createApplicationContext(appModule(true), options);
  const bus = worker.get((await import('@nestjs/cqrs')).EventBus);
  let completed = 0;
  bus.subscribe((event) => {
    if (event instanceof lib.ScheduledCommandCompletedEvent && ++completed === jobs + skip)
      finish();
  });
  await done;
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  await worker.close();
  await client.close();
  process.send({ cpuUs: (cpu.user + cpu.system) / jobs, perSecond: (jobs * 1000) / ms });
  process.exit(0);
}

/** See {@link FLOOR_MODES}. */
async function floor(mode, jobs) {
  const sdk = mode === 'floor-sdk';
  if (sdk) await registerSdk('sdk');
  const api = await import('@opentelemetry/api');
  const tracer = api.trace.getTracer('floor');
  const meter = api.metrics.getMeter('floor');
  const buckets = { advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 1, 10] } };
  const duration = meter.createHistogram('duration', { unit: 's', ...buckets });
  const lateness = meter.createHistogram('lateness', { unit: 's', ...buckets });
  const consumed = meter.createCounter('consumed');
  const base = { 'messaging.system': 's', 'messaging.destination.name': 'noop' };
  const typeAttrs = base;
  const processAttrs = {
    ...base,
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
  };
  const doneAttrs = { ...processAttrs, 'scheduled_commands.outcome': 'completed' };
  // A stored scheduling context, as a one-off command's first attempt has.
  const stored = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
  };
  const handler = async (seq) => seq;
  const runOne = (seq) => {
    if (!sdk) return handler(seq).then((v) => v);
    const started = performance.now();
    lateness.record(0.001, typeAttrs);
    const parent = api.trace.setSpanContext(api.ROOT_CONTEXT, stored);
    const span = tracer.startSpan(
      'process noop',
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 's',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': 'noop',
          'messaging.message.id': `id-${seq}`,
          'scheduled_commands.attempt': 1,
          'scheduled_commands.lateness_ms': 1,
        },
      },
      parent,
    );
    return api.context
      .with(api.trace.setSpan(parent, span), () => handler(seq))
      .then((v) => {
        if (span.isRecording()) span.setAttribute('scheduled_commands.outcome', 'completed');
        span.end();
        duration.record((performance.now() - started) / 1000, doneAttrs);
        return v;
      });
  };
  const pass = async (n) => {
    for (let from = 0; from < n; from += 500) {
      const batch = Math.min(500, n - from);
      if (sdk) consumed.add(batch, processAttrs);
      const runs = new Array(batch);
      for (let i = 0; i < batch; i++) runs[i] = runOne(from + i);
      await Promise.all(runs);
    }
  };
  if (process.env.BENCH_HARNESS_WARM === '1') await pass(jobs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await pass(jobs);
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  process.send({ cpuUs: (cpu.user + cpu.system) / jobs, perSecond: (jobs * 1000) / ms });
  process.exit(0);
}

/** The telemetry scenario's SDK: spans recorded, then dropped; metrics kept in memory. */
async function registerSdk(mode) {
  const { context, metrics, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const sdkMetrics = await import('@opentelemetry/sdk-metrics');
  const dropSpans = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  if (mode === 'sdk')
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] }),
  );
  const reader = new sdkMetrics.PeriodicExportingMetricReader({
    exporter: new sdkMetrics.InMemoryMetricExporter(sdkMetrics.AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  metrics.setGlobalMeterProvider(new sdkMetrics.MeterProvider({ readers: [reader] }));
}
