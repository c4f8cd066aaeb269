import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from 'typeorm';
import { AsyncContextDisabledError, TransactionsNotSupportedError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';
import type {
  ScheduledCommandEntry,
  ScheduledCommandMetadata,
} from '../store/scheduled-command-entry.js';
import type { LazyAbort } from './lazy-abort.js';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { runOwnTransaction, type TransactionalRun } from './run-transaction.js';

/** What a handler can learn about the scheduled run it is part of. */
export interface ScheduledCommandContext {
  readonly commandId: string;
  readonly commandType: string;
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number;
  readonly retryCount: number;
  readonly maxRetries: number;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
  /** Fires when the run should stop early: `commandTimeout` passed, the lease was lost, or the app is shutting down. */
  readonly signal: AbortSignal;
  /**
   * Runs `work` in a new transaction of the store's database and, in that same transaction, marks the
   * command completed with `work`'s return value, guarded by this run's lease. The handler's writes
   * through `manager` and the completion commit together: they happen at most once, even when the
   * worker dies after the commit or loses its lease while `work` runs. Return its result from the
   * handler (the worker then writes nothing more). Call it once per run.
   * @throws LeaseLostError when the lease is gone: everything `work` wrote is rolled back.
   * @throws TransactionsNotSupportedError when the store cannot run transactions (the TypeORM store can).
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T>;
}

/**
 * The {@link ScheduledCommandContext} of one run. A class rather than an object literal with a
 * `signal` getter: V8 builds such a literal on a slow path (about twenty times the cost of a class
 * instance), and one is made for every run. Internal to the worker.
 */
export class RunContext implements ScheduledCommandContext {
  readonly commandId: string;
  readonly commandType: string;
  readonly attempt: number;
  readonly retryCount: number;
  readonly maxRetries: number;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
  readonly #abort: LazyAbort;
  readonly #store: ScheduledCommandStore | undefined;
  readonly #run: TransactionalRun | undefined;

  constructor(
    entry: ScheduledCommandEntry,
    abort: LazyAbort,
    store?: ScheduledCommandStore,
    run?: TransactionalRun,
  ) {
    this.commandId = entry.id;
    this.commandType = entry.commandType;
    this.attempt = entry.attempts;
    this.retryCount = entry.retryCount;
    this.maxRetries = entry.maxRetries;
    this.correlationId = entry.correlationId;
    this.metadata = entry.metadata;
    this.#abort = abort;
    this.#store = store;
    this.#run = run;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.#store === undefined || this.#run === undefined) {
      return Promise.reject(
        new TransactionsNotSupportedError('This run cannot open a transaction of its own.'),
      );
    }
    return runOwnTransaction(this.#store, this.#run, this.commandType, work);
  }
}

/** Where the worker puts the context on the command instance it sends; private to this module. */
const CONTEXT = Symbol('scheduled-commands:context');

// Created eagerly but idle: Node installs its promise hooks only on the first `run()`, which happens
// only in a process where some module set `asyncContext: true`.
const storage = new AsyncLocalStorage<ScheduledCommandContext>();

/** How many live worker modules run their commands inside `storage` (`asyncContext: true`). */
let asyncContextUsers = 0;

/**
 * The context of the scheduled run a command is part of.
 *
 * - `getScheduledCommandContext(command)`, with the command instance the handler received in
 *   `execute(command)`: that run's context, or `undefined` when the command was not sent by the
 *   worker (e.g. `commandBus.execute(new X())` directly). Always available, and cheap.
 * - `getScheduledCommandContext()`, with no argument: the ambient context of the run the caller is in,
 *   anywhere in the handler's asynchronous call chain, or `undefined` outside a run. It needs the
 *   module option `asyncContext: true` (AsyncLocalStorage, which adds promise-hook overhead to every
 *   promise of the process, hence off by default).
 *
 * @throws AsyncContextDisabledError when called with no argument (or `undefined`) outside a run while
 *   no `ScheduledCommandsModule` of the process has `asyncContext: true`.
 */
export function getScheduledCommandContext(command?: object): ScheduledCommandContext | undefined {
  if (command !== undefined) {
    return command === null
      ? undefined
      : (command as { [CONTEXT]?: ScheduledCommandContext })[CONTEXT];
  }
  // A run that started inside the storage keeps its context even if its module has closed since.
  const ambient = storage.getStore();
  if (ambient !== undefined || asyncContextUsers > 0) return ambient;
  throw new AsyncContextDisabledError(messages.asyncContextDisabled());
}

/**
 * Attaches `context` to the command instance the worker is about to send, as a non-enumerable,
 * non-writable property under a private symbol: JSON, `Object.keys` and spreads of the command do not
 * see it. Internal to the worker.
 */
export function attachScheduledCommandContext(
  command: object,
  context: ScheduledCommandContext,
): void {
  Object.defineProperty(command, CONTEXT, { value: context });
}

/** Runs `fn` with `context` as the ambient scheduled run (`asyncContext: true` only). Internal to the worker. */
export function runInScheduledCommandContext<T>(context: ScheduledCommandContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Records that a worker module of this process uses the ambient context (`asyncContext: true`), so
 * that the no-argument `getScheduledCommandContext()` answers instead of throwing.
 *
 * @returns the function that withdraws it (safe to call more than once).
 */
export function enableAsyncScheduledCommandContext(): () => void {
  asyncContextUsers++;
  let withdrawn = false;
  return () => {
    if (withdrawn) return;
    withdrawn = true;
    asyncContextUsers--;
  };
}
