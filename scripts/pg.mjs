#!/usr/bin/env node
/**
 * Throw-away PostgreSQL server for tests.
 *
 * As a module: `startPostgres()` creates a temporary cluster (trust auth, UTF8, superuser
 * `postgres`), starts it on a free port of 127.0.0.1 and resolves once it accepts connections.
 *
 * As a command: `node scripts/pg.mjs start` prints the connection URL and keeps the server running
 * until SIGINT/SIGTERM, then stops it and removes its data.
 *
 * When run as root the server runs as the `postgres` system user (PostgreSQL refuses root). When no
 * server binaries are found and we are root on Debian/Ubuntu, they are installed with apt-get.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  aptInstall,
  asUser,
  findOrInstall,
  freePort,
  isRoot,
  keyLine,
  readTail,
  run,
  serverCommand,
  stopOnExit,
  stoppedOnItsOwn,
  userExists,
} from './server-support.mjs';

/** PostgreSQL major version used when several are installed. */
const PREFERRED_MAJOR = '15';
const PG_USER = 'postgres';

/** Error thrown when a server cannot be started; `message` is the reason, `details` the log. */
export class PostgresStartError extends Error {
  /**
   * @param {string} message short reason, one line
   * @param {string} [details] server or tool output that explains it
   */
  constructor(message, details = '') {
    super(message);
    this.name = 'PostgresStartError';
    this.details = details;
  }
}

/** Command line that runs `cmd` as the postgres user when we are root. */
const asPgUser = (cmd, args) => asUser(PG_USER, cmd, args);

const hasServerBinaries = (dir) =>
  !!dir && ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(dir, b)));

/** Finds the directory holding initdb/pg_ctl/postgres, or returns undefined. */
function findBinDir() {
  const debianRoot = '/usr/lib/postgresql';
  if (fs.existsSync(debianRoot)) {
    const versions = fs
      .readdirSync(debianRoot)
      .filter((v) => /^\d+(\.\d+)?$/.test(v) && hasServerBinaries(path.join(debianRoot, v, 'bin')))
      .sort((a, b) => Number(b) - Number(a));
    const chosen = versions.includes(PREFERRED_MAJOR) ? PREFERRED_MAJOR : versions[0];
    if (chosen) return path.join(debianRoot, chosen, 'bin');
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0 && hasServerBinaries(pgConfig.stdout.trim())) {
    return pgConfig.stdout.trim();
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (hasServerBinaries(dir)) return dir;
  }
  return undefined;
}

/** Installs the Debian `postgresql` package (root only) and stops any cluster it auto-started. */
async function installPostgres() {
  const log = (line) => process.stderr.write(`[pg] ${line}\n`);
  log('PostgreSQL server binaries not found');
  await aptInstall(['postgresql'], log, (message) => new PostgresStartError(message));
  // The package may create and start a default cluster on port 5432; we never use it.
  const clusters = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' });
  for (const line of clusters.status === 0 ? clusters.stdout.split('\n') : []) {
    const [version, name, , status] = line.trim().split(/\s+/);
    if (status === 'online') {
      log(`stopping the default cluster ${version}/${name} started by the package install`);
      spawnSync('pg_ctlcluster', [version, name, 'stop'], { stdio: 'ignore' });
    }
  }
  log('PostgreSQL installed');
}

/** Resolves the server binary directory, installing PostgreSQL when allowed and needed. */
const resolveBinDir = (install) =>
  findOrInstall({
    find: findBinDir,
    install: installPostgres,
    allowed: install,
    missing:
      'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin, ' +
      '`pg_config --bindir` or PATH',
    fail: (message) => new PostgresStartError(message),
  });

/** Polls until a client can connect and run a query, or throws after `timeoutMs`. */
async function waitUntilReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new PostgresStartError(
    `server did not accept connections within ${timeoutMs} ms: ${lastError?.message ?? 'timeout'}`,
  );
}

/**
 * @typedef {object} StartPostgresOptions
 * @property {boolean} [install=true] install PostgreSQL with apt-get when missing (root on Debian only)
 * @property {number} [startTimeoutMs=60000] how long to wait for the server to accept connections
 * @property {boolean} [quiet=true] when false, print progress to stderr
 */

/**
 * @typedef {object} PostgresServer
 * @property {string} url connection URL of the `postgres` database as superuser `postgres`
 * @property {number} port TCP port on 127.0.0.1
 * @property {string} dataDir cluster data directory (removed by `stop()`)
 * @property {() => Promise<void>} stop stops the server (fast, then immediate) and removes its files;
 *   safe to call more than once
 * @property {() => Promise<void>} restart restarts the server (`pg_ctl restart -m fast`), dropping
 *   every connection, and resolves once it accepts connections again
 */

/**
 * Starts a throw-away PostgreSQL server (version 15 preferred) in a new temporary directory.
 * The server is also stopped if the process exits without calling `stop()`.
 *
 * @param {StartPostgresOptions} [opts]
 * @returns {Promise<PostgresServer>}
 * @throws {PostgresStartError} when the binaries are missing, initdb fails or the server does not
 *   come up; `message` says why, `details` holds the tool or server log
 */
export async function startPostgres(opts = {}) {
  const { install = true, startTimeoutMs = 60_000, quiet = true } = opts;
  const log = (line) => quiet || process.stderr.write(`[pg] ${line}\n`);
  const binDir = await resolveBinDir(install);
  const bin = (name) => path.join(binDir, name);

  if (isRoot() && !userExists(PG_USER)) {
    throw new PostgresStartError(
      `running as root but there is no "${PG_USER}" system user to run the server as`,
    );
  }

  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-pg-'));
  const dataDir = path.join(baseDir, 'data');
  const logFile = path.join(baseDir, 'server.log');
  const removeFiles = () => fs.rmSync(baseDir, { recursive: true, force: true });
  try {
    if (isRoot()) {
      const chown = spawnSync('chown', ['-R', `${PG_USER}:`, baseDir], { encoding: 'utf8' });
      if (chown.status !== 0) {
        throw new PostgresStartError(
          `cannot chown ${baseDir} to ${PG_USER}: ${chown.stderr.trim()}`,
        );
      }
    }
    log(`initdb in ${dataDir} (${binDir})`);
    const initdb = await run(
      ...asPgUser(bin('initdb'), [
        '-D',
        dataDir,
        '-U',
        PG_USER,
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
    );
    if (initdb.code !== 0) {
      throw new PostgresStartError(
        `initdb failed (${initdb.error?.message ?? `exit ${initdb.code}`})${keyLine(initdb.output)}`,
        initdb.output,
      );
    }
  } catch (error) {
    removeFiles();
    throw error;
  }

  let port = 0;
  const serverOptions = () =>
    [
      `-p ${port}`,
      `-k ${baseDir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
  const pgCtl = (action, extra = []) =>
    run(...asPgUser(bin('pg_ctl'), [action, '-D', dataDir, '-s', ...extra]), {
      timeoutMs: startTimeoutMs + 10_000,
    });
  const startArgs = () => [
    '-w',
    '-t',
    String(Math.ceil(startTimeoutMs / 1000)),
    '-l',
    logFile,
    '-o',
    serverOptions(),
  ];
  const urlFor = (p) => `postgres://${PG_USER}@127.0.0.1:${p}/postgres`;

  let stopped = false;
  const server = {
    url: '',
    port: 0,
    dataDir,
    /** Synchronous variant used from the process 'exit' hook. */
    stopSync() {
      if (stopped) return;
      stopped = true;
      stoppedOnItsOwn(server);
      spawnSync(
        ...asPgUser(bin('pg_ctl'), ['stop', '-D', dataDir, '-s', '-m', 'immediate', '-w']),
        {
          stdio: 'ignore',
        },
      );
      removeFiles();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      stoppedOnItsOwn(server);
      const fast = await pgCtl('stop', ['-m', 'fast', '-w', '-t', '30']);
      if (fast.code !== 0) await pgCtl('stop', ['-m', 'immediate', '-w', '-t', '30']);
      removeFiles();
    },
    async restart() {
      if (stopped) throw new Error('PostgreSQL server was already stopped');
      const result = await pgCtl('restart', ['-m', 'fast', ...startArgs()]);
      if (result.code !== 0) {
        throw new PostgresStartError(
          `pg_ctl restart failed (exit ${result.code}): ${result.output}`,
          readTail(logFile),
        );
      }
      await waitUntilReady(server.url, startTimeoutMs);
    },
  };

  // Another process may take the port between probing and binding it: retry with a new one.
  let lastFailure;
  for (let attempt = 1; attempt <= 3; attempt++) {
    port = await freePort();
    log(`starting on 127.0.0.1:${port}`);
    const started = await pgCtl('start', startArgs());
    if (started.code === 0) {
      server.port = port;
      server.url = urlFor(port);
      stopOnExit(server);
      try {
        await waitUntilReady(server.url, startTimeoutMs);
      } catch (error) {
        error.details = readTail(logFile);
        await server.stop();
        throw error;
      }
      log(`ready at ${server.url}`);
      return server;
    }
    const serverLog = readTail(logFile);
    lastFailure = new PostgresStartError(
      `pg_ctl start failed (${started.error?.message ?? `exit ${started.code}`})` +
        keyLine(serverLog || started.output),
      [started.output, serverLog].filter(Boolean).join('\n'),
    );
    // Make sure a half-started postmaster does not linger before retrying.
    await pgCtl('stop', ['-m', 'immediate', '-w', '-t', '10']);
    if (!/could not bind|address already in use/i.test(serverLog)) break;
  }
  removeFiles();
  throw lastFailure;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await serverCommand(process.argv.slice(2), {
    script: 'pg.mjs',
    tag: 'pg',
    label: 'PostgreSQL',
    start: () => startPostgres({ quiet: false }),
  });
}
