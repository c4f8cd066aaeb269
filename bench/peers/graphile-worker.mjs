/**
 * graphile-worker 0.17.x in one benchmark process, speaking the protocol of `bench/lib/child.mjs`.
 *
 * Configuration (environment):
 * - `BENCH_ROLE`: `setup` (run its migrations, then serve requests), `client` (add jobs on request),
 *   `worker` (run jobs), `both`.
 * - `BENCH_URL`: connection URL.
 * - `BENCH_CONCURRENCY` (default 24): `concurrentJobs`; the pool gets `max(10, concurrency + 2)`
 *   connections, as its documentation recommends.
 * - `BENCH_POLL` (default 2000, its default): `pollInterval` for jobs scheduled in the future.
 * - `BENCH_LOCAL_QUEUE` (default off): `localQueue.size`; `BENCH_BATCH_DELAY` (default off):
 *   `completeJobBatchDelay` and `failJobBatchDelay` (batched completion).
 * - `BENCH_REPORT_STARTS=1`: report every job start.
 * - `BENCH_CRON=1`: the runner gets a crontab firing `bench_cron` every minute (recurring scenario).
 */
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import { inChunks, intEnv, now, Probe, send, serve, waitForGo } from '../lib/child.mjs';

const env = process.env;
const role = env.BENCH_ROLE ?? 'worker';
const TASK = 'bench_noop';
const probe = new Probe();

// Warnings and errors only: its info lines would flood the benchmark's output.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    process.stderr.write(`graphile-worker ${level}: ${message}\n`);
});

const concurrency = intEnv('BENCH_CONCURRENCY', 24);
const localQueue = intEnv('BENCH_LOCAL_QUEUE', -1);
const batchDelay = intEnv('BENCH_BATCH_DELAY', -1);
const preset = {
  worker: {
    connectionString: env.BENCH_URL,
    concurrentJobs: concurrency,
    maxPoolSize: Math.max(10, concurrency + 2),
    pollInterval: intEnv('BENCH_POLL', 2_000),
    ...(localQueue > 0 ? { localQueue: { size: localQueue } } : {}),
    ...(batchDelay >= 0
      ? { completeJobBatchDelay: batchDelay, failJobBatchDelay: batchDelay }
      : {}),
  },
};

send({ event: 'loaded' });
if (env.BENCH_WAIT_GO === '1') await waitForGo();

if (role === 'setup') await runMigrations({ preset, logger });

/** The recurring scenario: per cron job, its start minus its fire time (`_cron.ts`), in ms. */
const CRON_TASK = 'bench_cron';
const cronLateness = [];

let runner;
if (role === 'worker' || role === 'both') {
  runner = await run({
    preset,
    logger,
    noHandleSignals: true,
    ...(env.BENCH_CRON === '1' ? { crontab: `* * * * * ${CRON_TASK}` } : {}),
    taskList: {
      [CRON_TASK]: async (payload) => {
        cronLateness.push(now() - Date.parse(payload._cron.ts));
      },
      [TASK]: async (payload) => {
        probe.started(payload);
      },
    },
  });
}
const utils = role === 'worker' ? undefined : await makeWorkerUtils({ preset, logger });

const toSpec = ({ seq, dueAt }) => ({
  identifier: TASK,
  payload: dueAt === null || dueAt === undefined ? { seq } : { seq, dueAt },
  ...(dueAt === null || dueAt === undefined ? {} : { runAt: new Date(dueAt) }),
});

serve(
  {
    scheduleBulk: ({ count, chunk = 1_000, startSeq = 0, dueAt = null }) =>
      inChunks(count, chunk, startSeq, dueAt, (items) => utils.addJobs(items.map(toSpec))),
    scheduleTimes: async ({ times, startSeq = 0, chunk = 1_000 }) => {
      const t0 = now();
      for (let from = 0; from < times.length; from += chunk) {
        await utils.addJobs(
          times
            .slice(from, from + chunk)
            .map((dueAt, i) => toSpec({ seq: startSeq + from + i, dueAt })),
        );
      }
      return now() - t0;
    },
    scheduleSequential: async ({ count, startSeq = 0 }) => {
      const t0 = now();
      for (let i = 0; i < count; i++) await utils.addJob(TASK, { seq: startSeq + i });
      return now() - t0;
    },
    scheduleNow: async ({ seq }) => {
      const sentAt = now();
      // In one process with the worker, add through the runner: it wakes its own pool at once.
      await (runner ?? utils).addJob(TASK, { seq, sentAt });
      return sentAt;
    },
    cronLateness: async () => cronLateness,
    stop: async () => {
      await runner?.stop();
      await utils?.release();
    },
  },
  probe,
);
send({ event: 'ready' });
