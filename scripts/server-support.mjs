/**
 * Helpers shared by the throw-away database servers of the tests (`pg.mjs`, `mariadb.mjs`):
 * running tools, installing Debian packages, free ports, log excerpts and a process exit hook.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** Whether this process runs as root (database servers then run as their own system user). */
export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

// runuser lives in sbin, which is not always on a CI PATH.
const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => fs.existsSync(p)) ?? 'runuser';

/** Command line that runs `cmd` as `user` when we are root, unchanged otherwise. */
export function asUser(user, cmd, args) {
  return isRoot() ? [runuser, ['-u', user, '--', cmd, ...args]] : [cmd, args];
}

/** Whether the system user `user` exists. */
export const userExists = (user) => spawnSync('id', ['-u', user], { stdio: 'ignore' }).status === 0;

/**
 * Runs a command and collects its output. Never rejects: the caller decides what a failure means.
 * @returns {Promise<{ code: number | null, output: string, error?: Error }>}
 */
export function run(cmd, args, { stdio = 'pipe', timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(cmd, args, {
        stdio: stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : stdio,
        env: { ...process.env, LC_ALL: 'C' },
      });
    } catch (error) {
      resolve({ code: null, output: '', error });
      return;
    }
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output, error });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.trim() });
    });
  });
}

/** Whether packages may be installed here: root on Debian/Ubuntu. */
export const canInstallPackages = () => isRoot() && fs.existsSync('/etc/debian_version');

/**
 * Installs Debian `packages` with apt-get, its output on stderr so that stdout stays clean for
 * callers that read a URL from it.
 * @param {(message: string) => Error} fail builds the error thrown when a step fails
 */
export async function aptInstall(packages, log, fail) {
  log(`installing: apt-get update && apt-get install -y ${packages.join(' ')}`);
  const stdio = ['ignore', 2, 2];
  process.env.DEBIAN_FRONTEND ??= 'noninteractive';
  const update = await run('apt-get', ['update'], { stdio, timeoutMs: 600_000 });
  if (update.code !== 0) throw fail(`"apt-get update" failed (exit ${update.code})`);
  const install = await run('apt-get', ['install', '-y', ...packages], {
    stdio,
    timeoutMs: 900_000,
  });
  if (install.code !== 0) {
    throw fail(`"apt-get install -y ${packages.join(' ')}" failed (exit ${install.code})`);
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The line of tool output that best explains a failure, as `: <line>`, or ''. */
export function keyLine(output) {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line =
    lines.findLast((l) => /\b(FATAL|PANIC|ERROR|error):|\[ERROR\]/.test(l)) ?? lines.at(-1);
  return line ? `: ${line}` : '';
}

/** The last `lines` lines of `file`, or '' when it cannot be read. */
export function readTail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Servers still running in this process, stopped synchronously if the process exits. */
const live = new Set();
let exitHookInstalled = false;

/** Registers a server whose `stopSync()` runs if the process exits before it is stopped. */
export function stopOnExit(server) {
  live.add(server);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of live) s.stopSync();
  });
}

/** Unregisters a server stopped by its owner. */
export const stoppedOnItsOwn = (server) => live.delete(server);

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The command line of a server script: `node scripts/<script> start` starts a server, prints its
 * URL on stdout and keeps it running until SIGINT/SIGTERM, then stops it and removes its data.
 * @param {{ script: string, tag: string, label: string, start: () => Promise<{ url: string, stop(): Promise<void> }> }} server
 */
export async function serverCommand(argv, { script, tag, label, start }) {
  const [command] = argv;
  if (command !== 'start') {
    process.stderr.write(`usage: node scripts/${script} start\n`);
    process.exit(2);
  }
  let server;
  const started = Date.now();
  try {
    server = await start();
  } catch (error) {
    process.stderr.write(`${label} could not be started: ${error.message}\n`);
    if (error.details) process.stderr.write(`${error.details}\n`);
    process.exit(1);
  }
  process.stdout.write(`${server.url}\n`);
  process.stderr.write(`[${tag}] started in ${Date.now() - started} ms; press Ctrl+C to stop\n`);
  const keepAlive = setInterval(() => {}, 1 << 30);
  const shutdown = async (signal) => {
    process.stderr.write(`[${tag}] ${signal}: stopping\n`);
    clearInterval(keepAlive);
    await server.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/**
 * Finds a server's binaries with `find()`, installing them with `install()` when they are missing
 * and `allowed` (root on Debian/Ubuntu only).
 * @param {{ find: () => T | undefined, install: () => Promise<void>, allowed: boolean, missing: string, fail: (message: string) => Error }} how
 * @template T
 */
export async function findOrInstall({ find, install, allowed, missing, fail }) {
  const found = find();
  if (found) return found;
  if (!allowed || !canInstallPackages()) {
    throw fail(missing + (allowed ? ' (automatic install needs root on Debian/Ubuntu)' : ''));
  }
  await install();
  const installed = find();
  if (!installed) throw fail('the server was installed but its binaries were not found');
  return installed;
}
