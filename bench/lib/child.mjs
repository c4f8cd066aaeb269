/**
 * Child-process side of the benchmark: the IPC protocol every system adapter speaks (our worker in
 * `bench/worker.mjs`, the peers in `bench/peers/*.mjs`).
 *
 * Parent → child: `{ id, op, args }`; the child answers `{ id, ok: true, result }` or
 * `{ id, ok: false, error }`. Child → parent events: `{ event: 'loaded' }` (modules imported),
 * `{ event: 'ready' }` (application started), `{ event: 'stats', ... }` every 100 ms and, when
 * `BENCH_REPORT_STARTS=1`, `{ event: 'start', seq, late, latency }` for every handler start.
 *
 * Handlers call {@link Probe.started} first thing; the command's payload carries `seq`, and
 * optionally `dueAt` (the due time, epoch ms: lateness) or `sentAt` (when the client called
 * schedule, epoch ms: latency).
 */

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution. */
export const now = () => performance.timeOrigin + performance.now();

const env = process.env;

/** Integer setting from the environment, or `fallback`. */
export function intEnv(name, fallback) {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${value}`);
  return n;
}

/** Sends a message to the parent when the channel is still open. */
export function send(message) {
  if (process.connected) process.send(message);
}

/** Counts handler starts, keeps timing samples and the peak RSS of this process. */
export class Probe {
  handled = 0;
  firstStart = null;
  lastStart = null;
  /** `[seq, late, latency]` per start (only when samples are kept). */
  samples = [];
  peakRss = process.memoryUsage.rss();

  constructor({
    reportStarts = env.BENCH_REPORT_STARTS === '1',
    keepSamples = env.BENCH_KEEP_SAMPLES === '1',
  } = {}) {
    this.reportStarts = reportStarts;
    this.keepSamples = keepSamples || reportStarts;
    // Sampled often enough to catch short peaks; process.memoryUsage.rss() is a cheap syscall.
    this.rssTimer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > this.peakRss) this.peakRss = rss;
    }, 20);
    this.rssTimer.unref();
  }

  /** Records one handler start for a payload `{ seq, dueAt?, sentAt? }`. */
  started(payload) {
    const t = now();
    this.handled++;
    if (this.firstStart === null) this.firstStart = t;
    this.lastStart = t;
    if (!this.keepSamples || !payload) return;
    const late = typeof payload.dueAt === 'number' ? t - payload.dueAt : null;
    const latency = typeof payload.sentAt === 'number' ? t - payload.sentAt : null;
    if (late === null && latency === null) return;
    this.samples.push([payload.seq, late, latency]);
    if (this.reportStarts) send({ event: 'start', seq: payload.seq, late, latency });
  }

  /** The figures sent with every `stats` event. */
  stats() {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
    return {
      handled: this.handled,
      firstStart: this.firstStart,
      lastStart: this.lastStart,
      rss,
      peakRss: this.peakRss,
      heapUsed: process.memoryUsage().heapUsed,
    };
  }

  /** Forgets the peak so far (call when the measured phase begins). */
  resetPeak() {
    this.peakRss = process.memoryUsage.rss();
  }
}

/**
 * Serves the parent's requests with `ops` (an object of async functions taking `args`), reports
 * stats every 100 ms, and exits when the parent goes away. `ops.stop` must close the application;
 * the process exits after answering it.
 */
export function serve(ops, probe) {
  // The parent is gone (crashed or killed): nobody is measuring any more.
  process.on('disconnect', () => process.exit(1));
  const timer = setInterval(() => send({ event: 'stats', ...probe.stats() }), 100);
  timer.unref();
  const extra = {
    stats: async () => probe.stats(),
    /** Handlers started so far: cheap enough to ask every few milliseconds. */
    handled: async () => probe.handled,
    samples: async () => probe.samples,
    clearSamples: async () => {
      probe.samples = [];
    },
    resetPeak: async () => probe.resetPeak(),
    /** Forgets the first and last handler start (call before a new round of jobs). */
    resetStarts: async () => {
      probe.firstStart = null;
      probe.lastStart = null;
    },
    /** Heap in use right after a full collection (needs `node --expose-gc`), in bytes. */
    gcHeap: async () => {
      if (typeof globalThis.gc !== 'function') throw new Error('run node with --expose-gc');
      globalThis.gc();
      return process.memoryUsage().heapUsed;
    },
  };
  process.on('message', async (message) => {
    if (!message || typeof message.op !== 'string') return;
    const { id, op, args } = message;
    const fn = ops[op] ?? extra[op];
    try {
      if (!fn) throw new Error(`unknown op ${op}`);
      const result = await fn(args ?? {});
      send({ id, ok: true, result: result ?? null });
      if (op === 'stop') {
        clearInterval(timer);
        setTimeout(() => process.exit(0), 10);
      }
    } catch (error) {
      send({ id, ok: false, error: String(error?.stack ?? error) });
    }
  });
}

/** Resolves when the parent sends `{ op: 'go' }` (answered by the caller's `serve`). */
export function waitForGo() {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.op === 'go') {
        process.off('message', onMessage);
        send({ id: message.id, ok: true, result: null });
        resolve();
      }
    };
    process.on('message', onMessage);
  });
}

/**
 * Calls `scheduleChunk(items)` for `count` items in chunks of `chunk` and returns the elapsed ms.
 * Items are `{ seq, dueAt }` with `dueAt` null (due now) or an epoch-ms time.
 */
export async function inChunks(count, chunk, startSeq, dueAt, scheduleChunk) {
  const t0 = now();
  for (let from = 0; from < count; from += chunk) {
    const items = [];
    for (let i = from; i < Math.min(count, from + chunk); i++)
      items.push({ seq: startSeq + i, dueAt });
    await scheduleChunk(items);
  }
  return now() - t0;
}
