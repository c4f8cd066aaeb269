#!/usr/bin/env node
/**
 * Throw-away MariaDB server for tests.
 *
 * As a module: `startMariadb()` creates a temporary data directory (`mariadb-install-db`), starts
 * `mariadbd` on a free port of 127.0.0.1 with its socket in that directory, creates the
 * `scheduled_commands` database and resolves once it accepts connections as `root` (no password).
 *
 * As a command: `node scripts/mariadb.mjs start` prints the connection URL and keeps the server
 * running until SIGINT/SIGTERM, then stops it and removes its data.
 *
 * When run as root the server runs as the `mysql` system user. When no server binaries are found
 * and we are root on Debian/Ubuntu, Debian's `mariadb-server` is installed with apt-get.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import {
  aptInstall,
  findOrInstall,
  freePort,
  isRoot,
  keyLine,
  readTail,
  run,
  serverCommand,
  sleep,
  stopOnExit,
  stoppedOnItsOwn,
  userExists,
} from './server-support.mjs';

const MYSQL_USER = 'mysql';
/** Database created on start and named by the URL. */
export const MARIADB_DATABASE = 'scheduled_commands';

/** Error thrown when a server cannot be started; `message` is the reason, `details` the log. */
export class MariadbStartError extends Error {
  /**
   * @param {string} message short reason, one line
   * @param {string} [details] server or tool output that explains it
   */
  constructor(message, details = '') {
    super(message);
    this.name = 'MariadbStartError';
    this.details = details;
  }
}

/** The first existing file among `names` in the usual directories and PATH. */
function findBinary(names) {
  const dirs = ['/usr/sbin', '/usr/bin', ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (dir && fs.existsSync(file)) return file;
    }
  }
  return undefined;
}

/** The server and the data directory tool, or undefined when either is missing. */
function findBinaries() {
  const server = findBinary(['mariadbd', 'mysqld']);
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
  return server && installDb ? { server, installDb } : undefined;
}

/** Installs Debian's `mariadb-server` (root only) and stops the default server it may start. */
async function installMariadb() {
  const log = (line) => process.stderr.write(`[mariadb] ${line}\n`);
  log('MariaDB server binaries not found');
  await aptInstall(['mariadb-server'], log, (message) => new MariadbStartError(message));
  // The package may start a default server on port 3306; we never use it.
  for (const stop of [
    ['invoke-rc.d', ['mariadb', 'stop']],
    ['service', ['mariadb', 'stop']],
  ]) {
    if (spawnSync(...stop, { stdio: 'ignore' }).status === 0) break;
  }
  log('MariaDB installed');
}

/** Resolves the binaries, installing MariaDB when allowed and needed. */
const resolveBinaries = (install) =>
  findOrInstall({
    find: findBinaries,
    install: installMariadb,
    allowed: install,
    missing:
      'MariaDB server binaries (mariadbd or mysqld, and mariadb-install-db) not found in ' +
      '/usr/sbin, /usr/bin or PATH',
    fail: (message) => new MariadbStartError(message),
  });

/** Polls until a client can connect and run a query, or throws after `timeoutMs`. */
async function waitUntilReady(port, timeoutMs, exited) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline && !exited()) {
    try {
      const connection = await mysql.createConnection({
        host: '127.0.0.1',
        port,
        user: 'root',
        connectTimeout: 2_000,
      });
      try {
        await connection.query(
          `CREATE DATABASE IF NOT EXISTS ${MARIADB_DATABASE} CHARACTER SET utf8mb4`,
        );
      } finally {
        await connection.end().catch(() => undefined);
      }
      return;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new MariadbStartError(
    exited()
      ? 'mariadbd exited before it accepted connections'
      : `server did not accept connections within ${timeoutMs} ms: ${lastError?.message ?? 'timeout'}`,
  );
}

/**
 * @typedef {object} StartMariadbOptions
 * @property {boolean} [install=true] install MariaDB with apt-get when missing (root on Debian only)
 * @property {number} [startTimeoutMs=60000] how long to wait for the server to accept connections
 * @property {boolean} [quiet=true] when false, print progress to stderr
 * @property {string[]} [serverArgs=[]] more `mariadbd` options, after ours (e.g. `--log-bin`)
 */

/**
 * @typedef {object} MariadbServer
 * @property {string} url `mysql://root@127.0.0.1:<port>/scheduled_commands`
 * @property {number} port TCP port on 127.0.0.1
 * @property {string} dataDir data directory (removed by `stop()`)
 * @property {() => Promise<void>} stop stops the server and removes its files; safe to call more than once
 * @property {() => Promise<void>} restart stops the server (a clean shutdown, dropping every
 *   connection) and starts it again on the same port and data
 */

/**
 * Starts a throw-away MariaDB server in a new temporary directory. The server is also stopped if
 * the process exits without calling `stop()`.
 *
 * @param {StartMariadbOptions} [opts]
 * @returns {Promise<MariadbServer>}
 * @throws {MariadbStartError} when the binaries are missing, the data directory cannot be created
 *   or the server does not come up; `message` says why, `details` holds the tool or server log
 */
export async function startMariadb(opts = {}) {
  const { install = true, startTimeoutMs = 60_000, quiet = true, serverArgs = [] } = opts;
  const log = (line) => quiet || process.stderr.write(`[mariadb] ${line}\n`);
  const bin = await resolveBinaries(install);
  if (isRoot() && !userExists(MYSQL_USER)) {
    throw new MariadbStartError(
      `running as root but there is no "${MYSQL_USER}" system user to run the server as`,
    );
  }
  const asUser = isRoot() ? [`--user=${MYSQL_USER}`] : [];

  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-mariadb-'));
  const dataDir = path.join(baseDir, 'data');
  const logFile = path.join(baseDir, 'server.log');
  const removeFiles = () => fs.rmSync(baseDir, { recursive: true, force: true });
  try {
    if (isRoot()) fs.chownSync(baseDir, ...uidGid(MYSQL_USER));
    log(`mariadb-install-db in ${dataDir}`);
    const installDb = await run(bin.installDb, [
      '--no-defaults',
      `--datadir=${dataDir}`,
      ...asUser,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
    ]);
    if (installDb.code !== 0) {
      throw new MariadbStartError(
        `mariadb-install-db failed (${installDb.error?.message ?? `exit ${installDb.code}`})` +
          keyLine(installDb.output),
        installDb.output,
      );
    }
  } catch (error) {
    removeFiles();
    throw error;
  }

  let port = 0;
  let child;
  let exited = true;
  const launch = () => {
    fs.rmSync(logFile, { force: true });
    child = spawn(
      bin.server,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        ...asUser,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${path.join(baseDir, 'mysqld.sock')}`,
        `--pid-file=${path.join(baseDir, 'mysqld.pid')}`,
        `--log-error=${logFile}`,
        `--tmpdir=${baseDir}`,
        '--skip-name-resolve',
        '--skip-log-bin',
        '--character-set-server=utf8mb4',
        '--max-connections=300',
        // Durable against a crash of the server process (not of the machine): enough for tests.
        '--innodb-flush-log-at-trx-commit=2',
        '--innodb-doublewrite=0',
        ...serverArgs,
      ],
      { stdio: 'ignore' },
    );
    exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
  };
  /** SIGTERM (a clean shutdown), then SIGKILL after 30 s. */
  const shutdown = async () => {
    if (exited) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await done;
    clearTimeout(timer);
  };
  const waitOrFail = async () => {
    try {
      await waitUntilReady(port, startTimeoutMs, () => exited);
    } catch (error) {
      error.details = readTail(logFile);
      throw error;
    }
  };

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
      if (!exited) child.kill('SIGKILL');
      removeFiles();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      stoppedOnItsOwn(server);
      await shutdown();
      removeFiles();
    },
    async restart() {
      if (stopped) throw new Error('MariaDB server was already stopped');
      await shutdown();
      launch();
      await waitOrFail();
    },
  };

  // Another process may take the port between probing and binding it: retry with a new one.
  let lastFailure;
  for (let attempt = 1; attempt <= 3; attempt++) {
    port = await freePort();
    log(`starting on 127.0.0.1:${port}`);
    launch();
    stopOnExit(server);
    try {
      await waitOrFail();
      server.port = port;
      server.url = `mysql://root@127.0.0.1:${port}/${MARIADB_DATABASE}`;
      log(`ready at ${server.url}`);
      return server;
    } catch (error) {
      await shutdown();
      lastFailure = new MariadbStartError(
        error.message + keyLine(error.details ?? ''),
        error.details,
      );
      if (!/address already in use|bind on TCP\/IP port/i.test(error.details ?? '')) break;
    }
  }
  stopped = true;
  stoppedOnItsOwn(server);
  removeFiles();
  throw lastFailure;
}

/** `[uid, gid]` of the system user `user`. */
function uidGid(user) {
  const id = (flag) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
  return [id('-u'), id('-g')];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await serverCommand(process.argv.slice(2), {
    script: 'mariadb.mjs',
    tag: 'mariadb',
    label: 'MariaDB',
    start: () => startMariadb({ quiet: false }),
  });
}
