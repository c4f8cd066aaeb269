import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './build.js';

const WORKER_SCRIPT = join(REPO_ROOT, 'test', 'fault', 'worker-process.mjs');

/** Where the instances store commands. */
export interface FaultDatabase {
  kind: 'postgres' | 'mariadb' | 'sqlite';
  /** PostgreSQL or MariaDB connection URL, or the SQLite file. */
  url: string;
  /**
   * The URL the instance named `name` connects with, when it is not `url` (on MariaDB: a user of
   * its own, so that the test can see its connections).
   */
  urlFor?(name: string): Promise<string>;
}

/** Settings of one instance (see `worker-process.mjs`); unset ones take its defaults. */
export interface InstanceSettings {
  concurrency?: number;
  batchSize?: number;
  leaseMs?: number;
  pollMs?: number;
  handlerMs?: number;
  /** Handlers insert an effect row, on its own or in `context.transaction()` (see worker-process.mjs). */
  effects?: 'plain' | 'transaction';
  /** JSON options of the recurring schedule the instance declares (`FAULT_RECURRING`). */
  recurring?: string;
  /** The instance SIGKILLs itself in its n-th handler, after its effect row (`FAULT_KILL_AT_RUN`). */
  killAtRun?: number;
}

/** A message an instance sends over IPC. */
export type InstanceMessage =
  | { event: 'ready'; workerId: string }
  | { event: 'stats'; held: number; started: number; finished: number }
  | { event: 'scheduled'; count: number; ms: number };

/** The periodic report of a worker instance. */
export type StatsMessage = Extract<InstanceMessage, { event: 'stats' }>;

/** How a process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One application instance running `worker-process.mjs` in its own Node process. Its output goes to
 * a log file (and is kept in memory for error reports); its IPC messages are kept in order.
 */
export class FaultProcess {
  readonly messages: InstanceMessage[] = [];
  /** Output lines, most recent last (at most 5,000). */
  readonly lines: string[] = [];
  /** Error and warning lines with the time (`Date.now()`) they reached this process. */
  readonly problems: { at: number; line: string }[] = [];
  exit: ExitInfo | undefined;
  /** Set before a deliberate kill or stop, so the exit is not reported as a crash. */
  expectedExit = false;
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    env: Record<string, string>,
    private readonly logFile: string,
  ) {
    const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...env };
    delete childEnv.NODE_OPTIONS;
    this.child = spawn(process.execPath, ['--enable-source-maps', WORKER_SCRIPT], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
    this.child.on('message', (message: InstanceMessage) => {
      this.messages.push(message);
      this.notify();
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) this.addLine(line);
      });
      stream.on('end', () => rest && this.addLine(rest));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The latest `stats` message, if any. */
  get stats(): StatsMessage | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i];
      if (message.event === 'stats') return message;
    }
    return undefined;
  }

  /** Lines logged at error or warning level (all of them, from the start). */
  problemLines(since = 0): string[] {
    return this.problems.filter((p) => p.at >= since).map((p) => p.line);
  }

  /** The last `n` output lines, for error messages. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /**
   * Waits for a message matching `predicate` (one already received counts).
   * @throws Error when the process exits first or after `timeoutMs`, with its last output lines.
   */
  async waitFor<T extends InstanceMessage>(
    predicate: (message: InstanceMessage) => message is T,
    timeoutMs: number,
    what: string,
  ): Promise<T>;
  async waitFor(
    predicate: (message: InstanceMessage) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<InstanceMessage>;
  async waitFor(
    predicate: (message: InstanceMessage) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<InstanceMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (this.exit) {
        throw new Error(
          `${this.name} exited (${describeExit(this.exit)}) before ${what}:\n${this.tail()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 1_000));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Resolves once the process has exited with code 0. @throws Error otherwise, with its output. */
  async succeeded(timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    if (exit.code !== 0) {
      throw new Error(`${this.name} failed (${describeExit(exit)}):\n${this.tail()}`);
    }
  }

  /**
   * Waits for an instance started with `killAtRun` to SIGKILL itself at that run: a crash sure to
   * find commands claimed and not finished.
   * @throws Error when it exits otherwise, or has not after `timeoutMs` (it is killed then).
   */
  async selfKilled(timeoutMs: number): Promise<void> {
    this.expectedExit = true;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void this.kill();
    }, timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    if (timedOut || exit.signal !== 'SIGKILL') {
      throw new Error(
        `${this.name} did not kill itself at its run (${timedOut ? `not within ${timeoutMs} ms` : describeExit(exit)}):\n${this.tail()}`,
      );
    }
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<ExitInfo> {
    this.expectedExit = true;
    if (!this.exit) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (graceful shutdown), then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 15_000): Promise<ExitInfo> {
    this.expectedExit = true;
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  private addLine(line: string): void {
    if (/\b(ERROR|WARN)\b/.test(line)) this.problems.push({ at: Date.now(), line });
    this.lines.push(line);
    if (this.lines.length > 5_000) this.lines.splice(0, this.lines.length - 5_000);
    appendFileSync(this.logFile, `${line}\n`);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter);
      waiter();
    }
  }
}

/** `code 1` / `signal SIGKILL`. */
export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/**
 * The instances of one scenario, all on one database, their run journals and logs in `dir`.
 * `stopAll()` ends every process it started, whatever state the scenario stopped in.
 */
export class FaultCluster {
  readonly processes: FaultProcess[] = [];

  constructor(
    readonly database: FaultDatabase,
    readonly dir: string,
  ) {}

  private async launch(name: string, env: Record<string, string>): Promise<FaultProcess> {
    const process = new FaultProcess(
      name,
      {
        FAULT_DB: this.database.kind,
        FAULT_DB_URL: (await this.database.urlFor?.(name)) ?? this.database.url,
        FAULT_WORKER_ID: name,
        ...env,
      },
      join(this.dir, `${name}.log`),
    );
    this.processes.push(process);
    return process;
  }

  /** Creates the schema (TypeORM `synchronize` in one process, before any worker starts). */
  async setup(): Promise<void> {
    await (await this.launch('setup', { FAULT_MODE: 'setup' })).succeeded(60_000);
  }

  /**
   * Schedules `count` commands (`seq` 0..count-1) with `scheduleMany`, from a schedule-only instance.
   * @returns how long the scheduling took inside that process, in milliseconds.
   */
  async schedule(count: number, chunk = 1_000): Promise<number> {
    const scheduler = await this.launch(`scheduler-${this.processes.length}`, {
      FAULT_MODE: 'schedule',
      FAULT_COUNT: String(count),
      FAULT_CHUNK: String(chunk),
    });
    await scheduler.succeeded(60_000);
    const done = scheduler.messages.find((m) => m.event === 'scheduled');
    if (!done) throw new Error(`${scheduler.name} exited without scheduling:\n${scheduler.tail()}`);
    return done.ms;
  }

  /** Starts a worker instance named `name` (its worker id) and waits until it runs. */
  async startWorker(name: string, settings: InstanceSettings = {}): Promise<FaultProcess> {
    const env: Record<string, string> = {
      FAULT_MODE: 'worker',
      FAULT_RUN_LOG: join(this.dir, `runs-${name}.log`),
    };
    const names: [keyof InstanceSettings, string][] = [
      ['concurrency', 'FAULT_CONCURRENCY'],
      ['batchSize', 'FAULT_BATCH_SIZE'],
      ['leaseMs', 'FAULT_LEASE_MS'],
      ['pollMs', 'FAULT_POLL_MS'],
      ['handlerMs', 'FAULT_HANDLER_MS'],
      ['effects', 'FAULT_EFFECTS'],
      ['recurring', 'FAULT_RECURRING'],
      ['killAtRun', 'FAULT_KILL_AT_RUN'],
    ];
    for (const [key, variable] of names) {
      if (settings[key] !== undefined) env[variable] = String(settings[key]);
    }
    const worker = await this.launch(name, env);
    await worker.waitFor((m) => m.event === 'ready', 60_000, 'start-up');
    return worker;
  }

  /**
   * Throws when a process exited that nobody stopped (a crash), with its last output lines.
   * Called while waiting for a scenario to finish, so a dead worker fails the test at once.
   */
  assertNoCrash(): void {
    for (const p of this.processes) {
      if (p.exit && !p.expectedExit && p.exit.code !== 0) {
        throw new Error(`${p.name} died unexpectedly (${describeExit(p.exit)}):\n${p.tail()}`);
      }
    }
  }

  /** Stops every process still running (gracefully, SIGKILL after the grace period). */
  async stopAll(graceMs = 15_000): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(graceMs)));
  }
}

/**
 * Polls `check` every `intervalMs` until it returns true, calling `guard` first each time (to fail
 * fast, e.g. on a crashed worker).
 * @throws Error naming `what` after `timeoutMs`.
 */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  guard: () => void = () => undefined,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    guard();
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A new temporary directory for a scenario's journals, logs and SQLite file. */
export function scenarioDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `sc-fault-${name}-`));
}

/**
 * Removes a scenario directory, unless `FAULT_KEEP_LOGS` is set: then it is kept (with every
 * process's full log) and its path printed, for looking into a failure.
 */
export function removeScenarioDir(dir: string | undefined): void {
  if (!dir) return;
  if (process.env.FAULT_KEEP_LOGS) console.log(`[fault] logs and journals kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
