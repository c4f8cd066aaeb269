#!/usr/bin/env node
/**
 * `npm run bench` — measures nestjs-scheduled-commands against pg-boss 10 and graphile-worker 0.17
 * on a throw-away PostgreSQL server (and SQLite for ours), printing one table per scenario and
 * writing the figures to `bench/results/<scenario>[.quick].json`.
 *
 * Options:
 * - `--quick`: fewer commands and runs, no four-process variant (under two minutes on 2 cores).
 * - `--only=throughput,timing,backlog,memory,large,soak,dashboard,recurring,transactions,mariadb,telemetry`:
 *   run some scenarios only (timing = scenarios 2, 3, 6; large = ten million finished rows, 7;
 *   soak = ten minutes at a steady rate, 8; dashboard = the dashboard's API on a million entries, 9;
 *   recurring = recurring lateness, 10; transactions = 11; mariadb = our store on a throw-away
 *   MariaDB beside PostgreSQL, 12). `large`, `soak` and `dashboard` are not
 *   part of `--quick`. `telemetry` (our throughput with telemetry off, with no OpenTelemetry SDK,
 *   and with the SDK tracing every command) runs only when named here.
 * - `--profile`: write CPU profiles of our single worker process in the throughput and telemetry
 *   scenarios to `bench/results/profiles/` (open them in Chrome DevTools).
 * - `--no-build`: use the library's current `dist/` instead of building it first.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { startMariadb } from '../scripts/mariadb.mjs';
import { startPostgres } from '../scripts/pg.mjs';
import { withClient } from './lib/db.mjs';
import { firstRow, withMysql } from './lib/mysql.mjs';
import { BENCH_DIR } from './lib/processes.mjs';
import { writeResult } from './lib/report.mjs';
import { backlog } from './scenarios/backlog.mjs';
import { dashboard } from './scenarios/dashboard.mjs';
import { largeTable } from './scenarios/large-table.mjs';
import { mariadb } from './scenarios/mariadb.mjs';
import { memory } from './scenarios/memory.mjs';
import { recurring } from './scenarios/recurring.mjs';
import { soak } from './scenarios/soak.mjs';
import { telemetry } from './scenarios/telemetry.mjs';
import { throughput } from './scenarios/throughput.mjs';
import { timing } from './scenarios/timing.mjs';
import { transactions } from './scenarios/transactions.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const quick = flag('quick');
const only = argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const known = [
  'throughput',
  'timing',
  'backlog',
  'memory',
  'large',
  'soak',
  'dashboard',
  'telemetry',
  'recurring',
  'transactions',
  'mariadb',
];
/** Not part of `--quick`: they take minutes whatever their size. */
const slow = ['large', 'soak', 'dashboard'];
for (const a of argv) {
  if (!['--quick', '--profile', '--no-build'].includes(a) && !a.startsWith('--only=')) {
    console.error(
      `unknown option ${a}\nusage: npm run bench -- [--quick] [--only=${known.join(',')}] [--profile] [--no-build]`,
    );
    process.exit(2);
  }
}
if (only?.some((s) => !known.includes(s))) {
  console.error(`--only takes some of: ${known.join(', ')}`);
  process.exit(2);
}
const wanted = (name) =>
  only ? only.includes(name) : name !== 'telemetry' && !(quick && slow.includes(name));
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

if (!flag('no-build')) {
  process.stderr.write('Building the library (npm run build -w nestjs-scheduled-commands)...\n');
  const build = spawnSync('npm', ['run', 'build', '-w', 'nestjs-scheduled-commands'], {
    cwd: path.resolve(BENCH_DIR, '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) {
    console.error('The library build failed.');
    process.exit(1);
  }
}

process.stderr.write('Starting a throw-away PostgreSQL server...\n');
const server = await startPostgres();
// MariaDB only for the scenario that uses it.
let mariadbServer;
if (wanted('mariadb')) {
  process.stderr.write('Starting a throw-away MariaDB server...\n');
  try {
    mariadbServer = await startMariadb();
  } catch (error) {
    await server.stop();
    throw error;
  }
}
const stopServers = () => Promise.all([server.stop(), mariadbServer?.stop()]);
let interrupted = false;
const onSignal = async (signal) => {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping the database servers\n`);
  await stopServers();
  process.exit(130);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

let failed = false;
try {
  const settings = await withClient(server.url, async (c) => {
    const get = async (name) => (await c.query(`SHOW ${name}`)).rows[0][name];
    return {
      server_version: await get('server_version'),
      fsync: await get('fsync'),
      synchronous_commit: await get('synchronous_commit'),
      full_page_writes: await get('full_page_writes'),
    };
  });
  const mariadbVersion = mariadbServer
    ? await withMysql(
        mariadbServer.url,
        async (c) => (await firstRow(c, 'SELECT VERSION() AS v')).v,
      )
    : undefined;
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    postgres: settings,
    ...(mariadbVersion ? { mariadb: mariadbVersion } : {}),
  };
  console.log(`# Benchmark (${quick ? 'quick' : 'full'})`);
  console.log(
    `\n${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}, PostgreSQL ${settings.server_version} on 127.0.0.1 (fsync=${settings.fsync}, synchronous_commit=${settings.synchronous_commit}, full_page_writes=${settings.full_page_writes})${mariadbVersion ? `; MariaDB ${mariadbVersion} on 127.0.0.1 (scripts/mariadb.mjs: innodb_flush_log_at_trx_commit=2, no binary log)` : ''}.`,
  );
  const ctx = {
    serverUrl: server.url,
    mysqlUrl: mariadbServer?.url,
    quick,
    profile: flag('profile'),
  };
  const meta = { quick, date: new Date().toISOString(), machine };
  const save = (result) => {
    const file = writeResult(`${result.name}${quick ? '.quick' : ''}`, { ...meta, ...result });
    process.stderr.write(`  → ${path.relative(process.cwd(), file)} (${elapsed()})\n`);
  };

  const deferred = [];
  const scenarios = [
    ['throughput', async () => save(await throughput(ctx))],
    [
      'timing',
      async () => {
        const r = await timing(ctx);
        save(r.future);
        save(r.latency);
        save(r.scheduling);
        deferred.push(r.scheduling.table);
      },
    ],
    ['backlog', async () => save(await backlog(ctx))],
    ['memory', async () => save(await memory(ctx))],
    ['large', async () => save(await largeTable(ctx))],
    ['soak', async () => save(await soak(ctx))],
    ['dashboard', async () => save(await dashboard(ctx))],
    ['telemetry', async () => save(await telemetry(ctx))],
    ['recurring', async () => save(await recurring(ctx))],
    ['transactions', async () => save(await transactions(ctx))],
    ['mariadb', async () => save(await mariadb(ctx))],
  ];
  for (const [name, run] of scenarios) {
    if (!wanted(name)) continue;
    try {
      await run();
    } catch (error) {
      failed = true;
      console.error(`\nScenario ${name} failed: ${error.stack ?? error}`);
    }
  }
  for (const table of deferred) console.log(table);
  console.log(`\nDone in ${elapsed()}.`);
} finally {
  if (!interrupted) await stopServers();
}
process.exit(failed ? 1 : 0);
