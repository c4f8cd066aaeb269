/**
 * pg-boss 10.x in one benchmark process, speaking the protocol of `bench/lib/child.mjs`.
 *
 * Configuration (environment):
 * - `BENCH_ROLE`: `setup` (install the schema and create the queue, then serve requests),
 *   `client` (send jobs on request), `worker` (work the queue), `both`.
 * - `BENCH_URL`: connection URL.
 * - `BENCH_WORKERS` (default 4) `work()` loops, each fetching `BENCH_BATCH` (default 100) jobs
 *   per poll, every `BENCH_POLL` ms (default 500, pg-boss's minimum). Each batch is handed to a
 *   handler that runs the no-op job body for every job, then pg-boss completes the batch.
 * - `BENCH_REPORT_STARTS=1`: report every job start.
 * - `BENCH_CRON=1`: run pg-boss's cron (`schedule: true`, its default intervals: schedules checked
 *   every 30 s, the internal send queue polled every 5 s) for the recurring scenario.
 */
import PgBoss from 'pg-boss';
import { inChunks, intEnv, now, Probe, send, serve, waitForGo } from '../lib/child.mjs';

const env = process.env;
const role = env.BENCH_ROLE ?? 'worker';
const QUEUE = 'bench-noop';
const probe = new Probe();

send({ event: 'loaded' });
if (env.BENCH_WAIT_GO === '1') await waitForGo();

const boss = new PgBoss({
  connectionString: env.BENCH_URL,
  application_name: `bench-pgboss-${role}`,
  // Schema changes only in the setup process; no maintenance or cron during the measurements.
  migrate: role === 'setup',
  supervise: false,
  schedule: env.BENCH_CRON === '1',
});
boss.on('error', (error) => process.stderr.write(`pg-boss error: ${error.message}\n`));
await boss.start();
if (role === 'setup') await boss.createQueue(QUEUE);

if (role === 'worker' || role === 'both') {
  const workers = intEnv('BENCH_WORKERS', 4);
  const options = {
    batchSize: intEnv('BENCH_BATCH', 100),
    pollingIntervalSeconds: intEnv('BENCH_POLL', 500) / 1000,
  };
  for (let i = 0; i < workers; i++) {
    await boss.work(QUEUE, options, async (jobs) => {
      for (const job of jobs) probe.started(job.data);
      return jobs.length;
    });
  }
}

/** The recurring scenario: handler starts of the cron queue's jobs (epoch ms). */
const CRON_QUEUE = 'bench-cron';
const cronStarts = [];

const toJob = ({ seq, dueAt }) => ({
  name: QUEUE,
  data: dueAt === null || dueAt === undefined ? { seq } : { seq, dueAt },
  ...(dueAt === null || dueAt === undefined ? {} : { startAfter: new Date(dueAt) }),
});

serve(
  {
    scheduleBulk: ({ count, chunk = 1_000, startSeq = 0, dueAt = null }) =>
      inChunks(count, chunk, startSeq, dueAt, (items) => boss.insert(items.map(toJob))),
    scheduleTimes: async ({ times, startSeq = 0, chunk = 1_000 }) => {
      const t0 = now();
      for (let from = 0; from < times.length; from += chunk) {
        await boss.insert(
          times
            .slice(from, from + chunk)
            .map((dueAt, i) => toJob({ seq: startSeq + from + i, dueAt })),
        );
      }
      return now() - t0;
    },
    scheduleSequential: async ({ count, startSeq = 0 }) => {
      const t0 = now();
      for (let i = 0; i < count; i++) await boss.send(QUEUE, { seq: startSeq + i });
      return now() - t0;
    },
    scheduleNow: async ({ seq }) => {
      const sentAt = now();
      await boss.send(QUEUE, { seq, sentAt });
      return sentAt;
    },
    /** A schedule firing every minute on its own queue, worked every 0.5 s (the minimum). */
    startCron: async () => {
      await boss.createQueue(CRON_QUEUE);
      await boss.work(CRON_QUEUE, { pollingIntervalSeconds: 0.5 }, async (jobs) => {
        for (let i = 0; i < jobs.length; i++) cronStarts.push(now());
      });
      await boss.schedule(CRON_QUEUE, '* * * * *', {});
    },
    /**
     * Per job started: its start minus the minute it fired for (pg-boss keeps no fire time: the
     * start of the minute the job started in, exact while a job starts less than 60 s late).
     */
    cronLateness: async () => cronStarts.map((t) => t - Math.floor(t / 60_000) * 60_000),
    stop: async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
    },
  },
  probe,
);
send({ event: 'ready' });
