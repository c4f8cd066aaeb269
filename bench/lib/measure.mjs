/**
 * The throughput measurement shared by the throughput, backlog and memory scenarios: `count` no-op
 * jobs due now are inserted in bulk, worker processes boot, and the clock runs from the moment they
 * may start until the database shows every job completed.
 */
import { backendCpu, cpuBetween, cpuMs } from './cpu.mjs';
import { lockTable, pollUntil, withClient } from './db.mjs';
import { insertJobsPg, insertJobsSqlite } from './job-sql.mjs';
import { lockMysqlTable, mysqlServerCpu, pollMysqlUntil, withMysql, firstRow } from './mysql.mjs';
import { now, sleep, spawnAll } from './processes.mjs';
import { freshStore, workerProcess } from './systems.mjs';

const sum = (values) => values.reduce((a, b) => a + b, 0);

/** `n` rounded to `digits` decimals; non-numbers are returned as they are. */
export const round = (n, digits = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? n : Number(n.toFixed(digits));

/** CPU microseconds per job between two per-process samples in ms (`null` when one is missing). */
const usPerJob = (before, after, count) =>
  before.includes(null) || after.includes(null)
    ? null
    : round(((sum(after) - sum(before)) * 1000) / count, 0);

/**
 * Waits until `system`'s finished-jobs figure in `store` reaches `target` and returns when it first
 * did (PostgreSQL: polled every 5 ms on one connection).
 */
/**
 * Waits until the workers together have started `target` handlers, asking them every 5 ms: the stats
 * they push come only every 100 ms, which would add up to 100 ms to a run of a few hundred.
 */
async function allStarted(workers, target, onTick) {
  for (;;) {
    const counts = await Promise.all(workers.map((w) => w.request('handled')));
    if (counts.reduce((sum, n) => sum + n, 0) >= target) return;
    onTick?.();
    await sleep(5);
  }
}

async function finishedAt(system, store, target) {
  if (system.db === 'postgres') {
    return withClient(store.url, (c) => pollUntil(c, system.doneSql, target));
  }
  if (system.db === 'mariadb') return pollMysqlUntil(store.url, system.doneSql, target);
  while (Number(Object.values(await store.query(system.doneSql))[0]) < target) await sleep(5);
  return now();
}

/** The start gate of a server database: its job table locked by one connection. */
const lockGate = (system, store) =>
  system.db === 'mariadb'
    ? lockMysqlTable(store.url, system.table)
    : lockTable(store.url, system.table);

/** CPU so far of the database server serving `store`, by pid (`null` for SQLite). */
const databaseCpu = (system, store) =>
  system.db === 'postgres'
    ? backendCpu(store.url)
    : system.db === 'mariadb'
      ? mysqlServerCpu(store.url)
      : null;

/**
 * One throughput run of `system` on `store` (from `freshStore`, whose client inserts the jobs).
 *
 * PostgreSQL: the system's job table is locked (`ACCESS EXCLUSIVE`) while the workers boot; every
 * worker blocks on its first query of it; the clock starts when the lock is released. MariaDB: the
 * same with `LOCK TABLES ... WRITE`. SQLite (no such gate): workers import everything, then start their applications together; the clock starts
 * at the first handler start. The clock stops at the first poll (every 5 ms, once every handler has
 * run) that finds every job finished in the database (completed; for graphile-worker: deleted).
 *
 * With `warm`, the same worker processes then run a second round of `count` jobs, measured the same
 * way, returned as `warm` (see {@link warmRound}).
 *
 * @param {object} options `count`, `processes` (default 1), `workerEnv`, `nodeArgs(i)`,
 *   `onProgress(stats[])` (called about every 100 ms while jobs run), `measureHeap` (PostgreSQL
 *   only; workers need `--expose-gc`: heap in use after a full collection, before and after),
 *   `warm` (default false)
 */
export async function runThroughput(system, store, options) {
  const {
    count,
    processes = 1,
    workerEnv = {},
    nodeArgs,
    onProgress,
    measureHeap = false,
    warm = false,
  } = options;
  const insertMs = await store.client.request('scheduleBulk', { count, chunk: 1_000 });
  const doneSql = system.doneSql;
  const target = Number(Object.values(await store.query(doneSql))[0]) + count;

  // A server database: gated, with the CPU of its server measured (PostgreSQL or MariaDB).
  const server = system.db !== 'sqlite';
  let gate = server ? await lockGate(system, store) : undefined;
  let workers = [];
  try {
    const env = {
      ...system.perProcessEnv?.(processes),
      ...workerEnv,
      ...(server ? {} : { BENCH_WAIT_GO: '1' }),
    };
    workers = await spawnAll(
      processes,
      (i) =>
        workerProcess(system, store.url, {
          name: `${system.id} worker ${i + 1}/${processes}`,
          env,
          nodeArgs: nodeArgs?.(i) ?? [],
        }),
      server ? 'ready' : 'loaded',
    );
    // Workers that are up (PostgreSQL: waiting at the gate) report their idle memory; their peak
    // counts from here.
    const idle = server ? await Promise.all(workers.map((w) => w.request('stats'))) : [];
    const idleHeap =
      server && measureHeap
        ? await Promise.all(workers.map((w) => w.request('gcHeap')))
        : undefined;
    if (server) await Promise.all(workers.map((w) => w.request('resetPeak')));
    // CPU time from here to the end: the workers' own, and their database backends' (PostgreSQL).
    const workerCpu0 = workers.map((w) => cpuMs(w.proc.pid));
    const backendCpu0 = await databaseCpu(system, store);
    let t0;
    if (server) {
      t0 = await gate.open();
      gate = undefined;
    } else {
      await Promise.all(workers.map((w) => w.request('go')));
    }
    let lastProgress = 0;
    await allStarted(workers, count, () => {
      if (onProgress && now() - lastProgress >= 100) {
        lastProgress = now();
        onProgress(workers.map((w) => w.stats));
      }
    });
    const t1 = await finishedAt(system, store, target);
    const serverCpu = cpuBetween(backendCpu0, await databaseCpu(system, store));
    const workerCpu1 = workers.map((w) => cpuMs(w.proc.pid));
    const stats = await Promise.all(workers.map((w) => w.request('stats')));
    const endHeap = idleHeap
      ? await Promise.all(workers.map((w) => w.request('gcHeap')))
      : undefined;
    const claimSql = workers[0].events.find((e) => e.event === 'claim-sql')?.sql;
    const completeSql = workers[0].events.find((e) => e.event === 'complete-sql')?.sql;
    const queryCounts =
      workerEnv.BENCH_COUNT_QUERIES === '1'
        ? await Promise.all(workers.map((w) => w.request('queryCounts')))
        : undefined;
    const firstStart = Math.min(...stats.map((s) => s.firstStart ?? Infinity));
    if (!server) t0 = firstStart;
    const ms = t1 - t0;
    const cold = {
      system: system.id,
      count,
      processes,
      ms: round(ms),
      perSecond: Math.round((count / ms) * 1000),
      firstStartMs: round(firstStart - t0),
      insertMs: round(insertMs),
      handled: stats.reduce((s, x) => s + x.handled, 0),
      // Per worker process: jobs run, and when its first and last handler started (ms after the start).
      perWorker: stats.map((s) => ({
        handled: s.handled,
        firstStartMs: round(s.firstStart - t0),
        lastStartMs: round(s.lastStart - t0),
      })),
      // CPU microseconds per job: worker processes, and the PostgreSQL backends serving the database
      // (MariaDB: the whole server process). (SQLite: the workers start their applications inside
      // the measured time, so none is given.)
      workerCpuUsPerJob: server ? usPerJob(workerCpu0, workerCpu1, count) : null,
      databaseCpuUsPerJob: serverCpu === null ? null : round((serverCpu * 1000) / count, 0),
      idleRssMb: idle.map((s) => round(s.rss / 1e6, 0)),
      peakRssMb: stats.map((s) => round(s.peakRss / 1e6, 0)),
      endRssMb: stats.map((s) => round(s.rss / 1e6, 0)),
      ...(idleHeap
        ? {
            idleHeapMb: idleHeap.map((b) => round(b / 1e6)),
            endHeapMb: endHeap.map((b) => round(b / 1e6)),
          }
        : {}),
      ...(claimSql ? { claimSql } : {}),
      ...(completeSql ? { completeSql } : {}),
      ...(queryCounts ? { queryCounts } : {}),
    };
    if (!warm) return cold;
    return { ...cold, warm: await warmRound(system, store, workers, count) };
  } finally {
    await gate?.abort();
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/**
 * How long the warm round's gate stays shut after its jobs are in: longer than the longest idle
 * polling interval of the systems (graphile-worker: 2 s), so that every worker process has a query
 * blocked on the table when it opens, as in the first round.
 */
export const WARM_GATE_HOLD_MS = 2_500;

/**
 * The warm round: `count` more jobs due now for worker processes that have just run a round (their
 * code is compiled and optimised, their pools open), timed like the first. PostgreSQL: the jobs are
 * inserted by SQL inside the start gate's transaction (see `job-sql.mjs`) and appear when it commits,
 * which starts the clock. SQLite: inserted in one write transaction; the clock starts at the first
 * handler start after it.
 */
async function warmRound(system, store, workers, count) {
  const server = system.db !== 'sqlite';
  const doneSql = system.doneSql;
  // Read once the jobs are in (some figures count the jobs left), in the transaction that inserted
  // them, before any worker can see them.
  let target;
  const before = await Promise.all(workers.map((w) => w.request('stats')));
  const handled0 = before.reduce((sum, s) => sum + s.handled, 0);
  await Promise.all(workers.map((w) => w.request('resetStarts')));
  await Promise.all(workers.map((w) => w.request('resetPeak')));
  const startSeq = 20_000_000;
  let t0;
  let workerCpu0;
  let backendCpu0 = null;
  if (server) {
    // MariaDB: under LOCK TABLES a statement may name the locked table once only, so the figure
    // (which names it twice) is read before: nothing is due or running then, and the jobs the gate
    // inserts are all due now, so the figure is back at that value once they are all finished.
    const ready =
      system.db === 'mariadb' ? await withMysql(store.url, (c) => firstRow(c, doneSql)) : undefined;
    const gate = await lockGate(system, store);
    try {
      const jobs = { count, firstDueMs: 0, spacingMs: 0, startSeq, idsBeforeNowMs: 0 };
      if (ready) {
        await gate.insertJobs(jobs);
        target = Number(Object.values(ready)[0]);
      } else {
        await insertJobsPg(gate.client, system, jobs);
        const { rows } = await gate.client.query(doneSql);
        target = Number(Object.values(rows[0])[0]) + count;
      }
      await sleep(WARM_GATE_HOLD_MS);
      workerCpu0 = workers.map((w) => cpuMs(w.proc.pid));
      backendCpu0 = await databaseCpu(system, store);
      t0 = await gate.open();
    } catch (error) {
      await gate.abort();
      throw error;
    }
  } else {
    workerCpu0 = workers.map((w) => cpuMs(w.proc.pid));
    target = insertJobsSqlite(store.url, { count, startSeq, readSql: doneSql }) + count;
  }
  await allStarted(workers, handled0 + count);
  const t1 = await finishedAt(system, store, target);
  const serverCpu = cpuBetween(backendCpu0, await databaseCpu(system, store));
  const workerCpu1 = workers.map((w) => cpuMs(w.proc.pid));
  const stats = await Promise.all(workers.map((w) => w.request('stats')));
  if (!server) t0 = Math.min(...stats.map((s) => s.firstStart ?? Infinity));
  const ms = t1 - t0;
  return {
    count,
    ms: round(ms),
    perSecond: Math.round((count / ms) * 1000),
    handled: stats.reduce((sum, s) => sum + s.handled, 0) - handled0,
    workerCpuUsPerJob: usPerJob(workerCpu0, workerCpu1, count),
    databaseCpuUsPerJob: serverCpu === null ? null : round((serverCpu * 1000) / count, 0),
    peakRssMb: stats.map((s) => round(s.peakRss / 1e6, 0)),
  };
}

/**
 * A fresh store for `system`, `runs` throughput runs on it, and the store dropped again.
 * `prepare(store)` runs first (e.g. a backlog), `afterRuns(store)` last (its result is `extra`).
 * Returns `{ runs: [...], median, warm?: { runs, median }, extra }` (medians by jobs per second).
 */
export async function measureThroughput(system, serverUrl, options) {
  const { label = 'tp', runs = 1, prepare, afterRuns } = options;
  const store = await freshStore(system, serverUrl, label);
  try {
    if (prepare) await prepare(store);
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await runThroughput(system, store, options));
    const extra = afterRuns ? await afterRuns(store) : undefined;
    const warm = results.every((r) => r.warm) ? pick(results.map((r) => r.warm)) : undefined;
    return { ...pick(results), ...(warm ? { warm } : {}), extra };
  } finally {
    await store.close();
  }
}

/** The median run (by jobs per second) of `results`, with every run kept under `runs`. */
export function pick(results) {
  const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)], runs: results };
}

/**
 * An empty store against a filled one for `system`: `fill(store)` fills the second (its result is
 * `fillResult`), then `runs` throughput runs alternate between them (drift hits both sides alike),
 * and `afterRuns({ empty, full }, fillResult, { empty, full })` (the stores, then the two sides'
 * figures) runs last, its result is `after`. Both stores are dropped at the end.
 * Returns `{ empty, full, fillResult, after }`, each side `{ median, runs, warm? }`.
 *
 * @param {object} options `label`, `fill`, `afterRuns`, `runs`, and `runThroughput`'s options
 *   (`count`, `warm`, `workerEnv`, ...)
 */
export async function compareTables(system, serverUrl, options) {
  const { label, fill, afterRuns, runs, ...runOptions } = options;
  const empty = await freshStore(system, serverUrl, `${label}_empty`);
  try {
    const full = await freshStore(system, serverUrl, `${label}_full`);
    try {
      const fillResult = await fill(full);
      const emptyRuns = [];
      const fullRuns = [];
      for (let i = 0; i < runs; i++) {
        process.stderr.write(
          `  ${label}: ${system.label}: run ${i + 1}/${runs}, ${runOptions.count} jobs, empty table then full\n`,
        );
        emptyRuns.push(await runThroughput(system, empty, runOptions));
        fullRuns.push(await runThroughput(system, full, runOptions));
      }
      const side = (results) => ({
        ...pick(results),
        ...(runOptions.warm ? { warm: pick(results.map((r) => r.warm)) } : {}),
      });
      const sides = { empty: side(emptyRuns), full: side(fullRuns) };
      const after = afterRuns ? await afterRuns({ empty, full }, fillResult, sides) : undefined;
      return { ...sides, fillResult, after };
    } finally {
      await full.close();
    }
  } finally {
    await empty.close();
  }
}
