/**
 * Parent side of the benchmark's IPC protocol (see `child.mjs`): spawns a system's process, sends
 * requests, collects its events and stats, and stops it.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `bench/` directory. */
export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every child still running, killed if the benchmark exits early. */
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.proc.kill('SIGKILL');
});

/** One benchmark child process. */
export class Child {
  /**
   * @param {string} script path relative to `bench/`
   * @param {object} options `env` (merged over process.env), `name` (for messages), `nodeArgs`
   */
  constructor(script, { env = {}, name = script, nodeArgs = [] } = {}) {
    this.name = name;
    this.stats = { handled: 0, firstStart: null, lastStart: null, rss: 0, peakRss: 0 };
    this.events = [];
    this.listeners = new Set();
    this.pending = new Map();
    this.nextId = 1;
    this.stderr = '';
    this.proc = fork(path.join(BENCH_DIR, script), [], {
      env: { ...process.env, ...env },
      execArgv: nodeArgs,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    live.add(this);
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
      if (this.stderr.length > 20_000) this.stderr = this.stderr.slice(-10_000);
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        live.delete(this);
        const error = new Error(
          `${this.name} exited (code ${code}, signal ${signal})\n${this.stderr.slice(-3000)}`,
        );
        for (const { reject } of this.pending.values()) reject(error);
        this.pending.clear();
        for (const listener of this.listeners) listener.reject?.(error);
        resolve({ code, signal });
      });
    });
    this.proc.on('message', (message) => this.onMessage(message));
  }

  onMessage(message) {
    if (message?.id !== undefined && this.pending.has(message.id)) {
      const { resolve, reject } = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) resolve(message.result);
      else reject(new Error(`${this.name}: ${message.error}`));
      return;
    }
    if (message?.event === 'stats') {
      this.stats = message;
    } else if (message?.event) {
      this.events.push(message);
    }
    for (const listener of [...this.listeners]) {
      if (listener.match(message)) {
        this.listeners.delete(listener);
        listener.resolve(message);
      }
    }
  }

  /** Sends `op` and resolves with the child's result. */
  request(op, args = {}, timeoutMs = 600_000) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.proc.send({ id, op, args });
    });
  }

  /** Resolves with the first event (already received or future) for which `match` is true. */
  waitFor(match, timeoutMs = 60_000, { past = true } = {}) {
    const fn = typeof match === 'string' ? (m) => m?.event === match : match;
    if (past) {
      const seen = this.events.find(fn);
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const listener = {
        match: fn,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(
          new Error(
            `${this.name}: no matching event within ${timeoutMs} ms\n${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** Asks the child to close its application, then waits for it to exit (killing it after `timeoutMs`). */
  async stop(timeoutMs = 20_000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      await this.request('stop', {}, timeoutMs).catch(() => undefined);
      await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }
}

/** Spawns `count` children and waits until each reports `event` (`ready` by default). */
export async function spawnAll(count, make, event = 'ready', timeoutMs = 120_000) {
  const children = Array.from({ length: count }, (_, i) => make(i));
  try {
    await Promise.all(children.map((c) => c.waitFor(event, timeoutMs)));
  } catch (error) {
    await Promise.all(children.map((c) => c.stop(2_000)));
    throw error;
  }
  return children;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Wall-clock time in epoch milliseconds with sub-millisecond resolution. */
export const now = () => performance.timeOrigin + performance.now();
