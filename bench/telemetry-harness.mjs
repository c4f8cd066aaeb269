#!/usr/bin/env node
/**
 * `node bench/telemetry-harness.mjs [--jobs=N] [--rounds=N] [--only=off,none,sdk,sdk-no-context]
 * [--lib=<dir>,<dir>]`:
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
  const offOf = (mode) => results[mode.replace(/^[^@]*/, 'off')];
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const width = Math.max(16, ...modes.map((m) => m.length + 1));
  console.log(`${jobs} no-op jobs, in-memory store, ${rounds} interleaved round(s); medians`);
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
      if (started++ === 0) {
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
  for (let from = 0; from < jobs; from += 1_000) {
    const n = Math.min(1_000, jobs - from);
    await scheduler.scheduleMany(
      Array.from({ length: n }, (_, i) => ({ command: new NoopCommand(from + i) })),
    );
  }
  const worker = await NestFactory.createApplicationContext(appModule(true), options);
  const bus = worker.get((await import('@nestjs/cqrs')).EventBus);
  let completed = 0;
  bus.subscribe((event) => {
    if (event instanceof lib.ScheduledCommandCompletedEvent && ++completed === jobs) finish();
  });
  await done;
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  await worker.close();
  await client.close();
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
